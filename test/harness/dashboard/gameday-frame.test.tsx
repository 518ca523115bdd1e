import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { Header, type Phase } from "../../../harness/dashboard/components.js";
import { Frame } from "../../../harness/dashboard/frame.js";
import { dashboardSourceFrom, type DashboardFrame, type FaultRow } from "../../../harness/dashboard/index.js";
import type { LoadSnapshot } from "../../../harness/load/index.js";
import { knownFrame } from "./frames.js";
import { TEST_KINDS } from "./kinds.js";

// eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;

function text(node: React.ReactElement): string[] {
  const { lastFrame, unmount } = render(node);
  const out = (lastFrame() ?? "").replace(ANSI, "");
  unmount();
  return out.split("\n").map((l) => l.trimEnd());
}

function frameLines(
  frame: DashboardFrame,
  phase: Phase = "running",
  message: string | null = null,
): string[] {
  return text(
    <Frame
      frame={frame}
      phase={phase}
      picker={{ step: "closed" }}
      pickerContext={{ kinds: TEST_KINDS, targets: ["worker", "load"] }}
      message={message}
    />,
  );
}

const fault = (over: Partial<FaultRow> & Pick<FaultRow, "id" | "status" | "startMs">): FaultRow => ({
  kind: "process-kill",
  target: "worker",
  description: "",
  endMs: null,
  manual: true,
  ...over,
});

/** 12:34.3 into a game day: the file's kill is past, three faults came from the picker. */
const GAMEDAY_FAULTS: FaultRow[] = [
  fault({ id: "kill-worker", description: "SIGKILL worker", status: "done", startMs: 2000, manual: false }),
  fault({
    id: "manual-1",
    kind: "process-freeze",
    description: "freeze worker",
    status: "reverted",
    startMs: 600_000,
    endMs: 630_000,
  }),
  fault({
    id: "manual-2",
    kind: "load-burst",
    target: "load",
    description: "load x2",
    status: "active",
    startMs: 750_000,
  }),
  fault({
    id: "manual-3",
    kind: "net-latency",
    target: "link:client-api",
    description: "+500ms latency",
    status: "active",
    startMs: 740_000,
    endMs: 770_000,
  }),
];

const gameday = (over: Partial<DashboardFrame> = {}): DashboardFrame =>
  knownFrame({
    title: "gameday-demo",
    elapsedMs: 754_300,
    plannedMs: null,
    timeline: { paused: false, nowMs: 754_300, faults: GAMEDAY_FAULTS },
    ...over,
  });

const MIDDLE = [
  "Rate      198/s sent of 200/s target (x2), in flight 3",
  "Last 1s   ok 190  degraded 5  shed 2  error 1  timeout 0  conn 0",
  "Latency   p50 12ms  p95 40ms  p99 1.23s  p99/s ▂▃ ▅█",
  "Avail     answered 99.900%  full 99.400%  of 4000",
  "Budget    SLO 99.900% at answered: left 0.0 of 4.0 bad (0%)",
  "Uptime    answered 100.000%  full 90.000%  (1s windows up at >= 99.0%)",
  "Recovery  kill: signal <=1s, answered <=1s, full <=3s",
  "SLOs",
  "  OK      availability-1            99.900% >= 99.900%",
  "  BREACH  p99                       p99 1.23s <= 500ms (recent)",
  "  --      recover                   judged at end",
];
const HEALTH = [
  "Target    ready yes  worker up  restarts 1  VRAM 3.0/8.0 GiB",
  "          breakers cpu closed, worker OPEN",
];

describe("game day frame (no planned end; exact text, ANSI stripped)", () => {
  it("shows elapsed and 'no planned end' instead of a remaining time; per-fault countdowns stay", () => {
    expect(frameLines(gameday())).toEqual([
      "faultline · gameday-demo                    elapsed 12:34 no planned end RUNNING",
      ...MIDDLE,
      "Faults    timeline t=12:34 running  2 active, 0 planned, 2 past",
      "> ACTIVE  manual-2       load x2 on load                  held until stop",
      "> ACTIVE  manual-3       +500ms latency on link:client-a… ends in 0:15",
      "  undone  manual-1       freeze worker on worker          at 10:00",
      "  done    kill-worker    SIGKILL worker on worker         at 0:02",
      ...HEALTH,
      "",
      "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p pause timeline",
    ]);
  });

  it("stopping after hours, timeline paused, the picker's last injection in the message line", () => {
    const frame = gameday({
      elapsedMs: 4 * 3_600_000,
      timeline: { paused: true, nowMs: 4 * 3_600_000 - 60_000, faults: GAMEDAY_FAULTS.slice(0, 1) },
    });
    expect(frameLines(frame, "stopping", "injected load-burst on load")).toEqual([
      "faultline · gameday-demo                 elapsed 4:00:00 no planned end STOPPING",
      ...MIDDLE,
      "Faults    timeline t=3:59:00 PAUSED  0 active, 0 planned, 1 past",
      "  done    kill-worker    SIGKILL worker on worker         at 0:02",
      ...HEALTH,
      "injected load-burst on load",
      "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p resume timeline",
    ]);
  });

  it.each([
    [0, "elapsed 0:00 no planned end RUNNING"],
    [59_999, "elapsed 0:59 no planned end RUNNING"],
    [3_600_000, "elapsed 1:00:00 no planned end RUNNING"],
    [36_000_000, "elapsed 10:00:00 no planned end RUNNING"],
  ])("header at %i ms: %s, right-aligned in 80 columns", (elapsedMs, right) => {
    const left = "faultline · gameday-demo";
    expect(text(<Header frame={gameday({ elapsedMs })} phase="running" />)).toEqual([
      left + " ".repeat(80 - left.length - right.length) + right,
    ]);
  });
});

describe("the source of a game day", () => {
  const snapshot: LoadSnapshot = {
    elapsedMs: 7_260_000,
    rateMultiplier: 1,
    scheduled: 145_200,
    inFlight: 1,
    queued: 0,
    maxInFlightHits: 0,
    totals: { ok: 145_199, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 },
    lastSeconds: [],
    recentLatency: { count: 0, p50: null, p95: null, p99: null },
  };

  it("passes plannedMs null through, and the planned rate still holds two hours in", () => {
    const source = dashboardSourceFrom({
      title: "gameday-demo",
      load: { snapshot: () => snapshot },
      plan: { segments: [{ startMs: 0, endMs: 4 * 3_600_000, r0: 20, r1: 20 }] },
      plannedMs: null,
      scheduler: null,
      slos: [],
    });
    const f = source.read();
    expect([f.plannedMs, f.elapsedMs, f.rate.target]).toEqual([null, 7_260_000, 20]);
    expect(text(<Header frame={f} phase="running" />)).toEqual([
      "faultline · gameday-demo                  elapsed 2:01:00 no planned end RUNNING",
    ]);
  });
});
