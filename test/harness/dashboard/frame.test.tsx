import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import type { PickerState } from "../../../harness/dashboard/keys.js";
import { Frame } from "../../../harness/dashboard/frame.js";
import type { Phase } from "../../../harness/dashboard/components.js";
import type { DashboardFrame } from "../../../harness/dashboard/index.js";
import { TEST_KINDS } from "./kinds.js";
import { knownFrame } from "./frames.js";

// eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;
const ctx = { kinds: TEST_KINDS, targets: ["worker", "api", "load", "link:api"] };

function lines(
  frame: DashboardFrame,
  opts: { phase?: Phase; picker?: PickerState; message?: string | null } = {},
): string[] {
  const { lastFrame, unmount } = render(
    <Frame
      frame={frame}
      phase={opts.phase ?? "running"}
      picker={opts.picker ?? { step: "closed" }}
      pickerContext={ctx}
      message={opts.message ?? null}
    />,
  );
  const text = (lastFrame() ?? "").replace(ANSI, "");
  unmount();
  return text.split("\n").map((l) => l.trimEnd());
}

const HEALTH_AND_KEYS = [
  "Target    ready yes  worker up  restarts 1  VRAM 3.0/8.0 GiB",
  "          breakers cpu closed, worker OPEN",
];
const KEYS = "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p pause timeline";

describe("dashboard frame (exact text, ANSI stripped)", () => {
  it("renders a known running state: rate, outcomes, latency, budget, SLOs, faults, health, keys", () => {
    expect(lines(knownFrame())).toEqual([
      "faultline · burst-demo                       elapsed 0:12 remaining 0:47 RUNNING",
      "Rate      198/s sent of 200/s target (x2), in flight 3",
      "Last 1s   ok 190  degraded 5  shed 2  error 1  timeout 0  conn 0",
      "Latency   p50 12ms  p95 40ms  p99 1.23s  p99/s ▂▃ ▅█",
      // Both levels side by side, the budget at the SLO's level, the last fault's three times.
      "Avail     answered 99.900%  full 99.400%  of 4000",
      "Budget    SLO 99.900% at answered: left 0.0 of 4.0 bad (0%)",
      "Uptime    answered 100.000%  full 90.000%  (1s windows up at >= 99.0%)",
      "Recovery  kill: signal <=1s, answered <=1s, full <=3s",
      "SLOs",
      "  OK      availability-1            99.900% >= 99.900%",
      "  BREACH  p99                       p99 1.23s <= 500ms (recent)",
      "  --      recover                   judged at end",
      "Faults    timeline t=0:12 running  1 active, 1 planned, 1 past",
      "> ACTIVE  burst          load x2 on load                  ends in 2.2s",
      "  planned lat            +500ms latency on link:api       starts in 0:17",
      "  done    kill           kill worker (process) on worker  at 0:05",
      ...HEALTH_AND_KEYS,
      "",
      KEYS,
    ]);
  });

  it("fits 80x24 in every state shown here", () => {
    const many = knownFrame({
      slos: Array.from({ length: 7 }, (_, i) => ({ id: `slo-${i}`, state: "pending" as const, detail: "x" })),
    });
    const all = [lines(many), lines(knownFrame(), { picker: { step: "kind", index: 9 } })];
    for (const l of all) {
      expect(l.length).toBeLessThanOrEqual(24);
      expect(Math.max(...l.map((x) => x.length))).toBeLessThanOrEqual(80);
    }
  });

  it("says when the timeline is paused, the run is stopping, no planned end, and budget is spent", () => {
    const frame = knownFrame({
      plannedMs: null,
      elapsedMs: 3_723_000,
      budget: {
        requests: 1000,
        good: 990,
        answered: 995,
        full: 990,
        level: "full",
        slo: 0.999,
        budget: 1,
        bad: 10,
      },
      uptime: { answered: null, full: null, windowMs: 2000, threshold: 0.95 },
      lastFault: null,
      timeline: { paused: true, nowMs: 3_700_000, faults: [] },
      health: {
        ready: false,
        workerUp: null,
        breakers: [],
        restarts: null,
        vramUsedBytes: null,
        vramTotalBytes: null,
      },
      slos: [],
    });
    const l = lines(frame, {
      phase: "stopping",
      message: "stopping: rolling faults back and writing the record",
    });
    expect(l).toEqual([
      "faultline · burst-demo                   elapsed 1:02:03 no planned end STOPPING",
      "Rate      198/s sent of 200/s target (x2), in flight 3",
      "Last 1s   ok 190  degraded 5  shed 2  error 1  timeout 0  conn 0",
      "Latency   p50 12ms  p95 40ms  p99 1.23s  p99/s ▂▃ ▅█",
      "Avail     answered 99.500%  full 99.000%  of 1000",
      "Budget    SLO 99.900% at full service: SPENT: 10 bad > 1.0",
      "Uptime    answered -  full -  (2s windows up at >= 95.0%)",
      "Recovery  no fault finished yet",
      "SLOs      none declared",
      "Faults    timeline t=1:01:40 PAUSED  (none yet)",
      "Target    ready NO  worker ?  restarts ?  VRAM ?",
      "          breakers ?",
      "stopping: rolling faults back and writing the record",
      "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p resume timeline",
    ]);
  });

  it("shows more SLOs than fit as a count, and held and injecting faults", () => {
    const frame = knownFrame({
      slos: ["a", "b", "c", "d", "e", "f"].map((id) => ({ id, state: "meeting" as const, detail: "ok" })),
      timeline: {
        paused: false,
        nowMs: 0,
        faults: [
          {
            id: "manual-1",
            kind: "load-burst",
            target: "load",
            description: "load x3",
            status: "active",
            startMs: 0,
            endMs: null,
            manual: true,
          },
          {
            id: "k",
            kind: "process-kill",
            target: "worker",
            description: "",
            status: "injecting",
            startMs: 0,
            endMs: null,
            manual: false,
          },
        ],
      },
    });
    expect(lines(frame).slice(8, 16)).toEqual([
      "SLOs      2 more not shown",
      "  OK      a                         ok",
      "  OK      b                         ok",
      "  OK      c                         ok",
      "  OK      d                         ok",
      "Faults    timeline t=0:00 running  2 active, 0 planned, 0 past",
      "> ACTIVE  manual-1       load x3 on load                  held until stop",
      "> INJECT  k              process-kill on worker           injecting",
    ]);
  });

  it("renders the picker's kind list around the selection, then target, params and duration steps", () => {
    const kinds = lines(knownFrame(), { picker: { step: "kind", index: 9 } });
    expect(kinds.slice(8, 18)).toEqual([
      "Inject a fault: kind (10/10)",
      "  kind-2           summary of kind 2",
      "  kind-3           summary of kind 3",
      "  kind-4           summary of kind 4",
      "  kind-5           summary of kind 5",
      "  kind-6           summary of kind 6",
      "  kind-7           summary of kind 7, which is long enough that it has to be …",
      "  process-kill     Kill a process",
      "> load-burst       Multiply the arrival rate",
      "Target    ready yes  worker up  restarts 1  VRAM 3.0/8.0 GiB",
    ]);
    const target = lines(knownFrame(), { picker: { step: "target", kind: "process-kill", index: 1 } });
    expect(target.slice(8, 12)).toEqual([
      "Inject process-kill: target",
      "  worker",
      "> api",
      "Target    ready yes  worker up  restarts 1  VRAM 3.0/8.0 GiB",
    ]);
    const params = lines(knownFrame(), {
      picker: {
        step: "params",
        kind: "load-burst",
        target: "load",
        text: "{multiplier: x}",
        error: "params.multiplier: bad",
      },
    });
    expect(params.slice(8, 12)).toEqual([
      "Inject load-burst on load",
      "params: {multiplier: x}_",
      "a YAML mapping, e.g. {multiplier: 2}; Enter next, Esc back",
      "error: params.multiplier: bad",
    ]);
    const hold = lines(knownFrame(), {
      picker: {
        step: "duration",
        kind: "load-burst",
        target: "load",
        params: { multiplier: 2 },
        text: "30s",
        error: null,
      },
    });
    expect(hold.slice(8, 11)).toEqual([
      "Inject load-burst on load",
      "hold for: 30s_",
      'e.g. "30s"; empty holds it until the run stops; Enter injects, Esc back',
    ]);
    expect(params[params.length - 1]).toBe(
      "Keys  up/down choose  Enter next  Esc back  Ctrl-C stop gracefully",
    );
  });
});
