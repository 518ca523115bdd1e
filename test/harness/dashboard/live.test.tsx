import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { LiveDashboard } from "../../../harness/dashboard/live.js";
import type { DashboardControls, DashboardSource } from "../../../harness/dashboard/index.js";
import { knownFrame } from "./frames.js";
import { TEST_KINDS } from "./kinds.js";

// eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;
const DOWN = "\u001B[B";
const UP = "\u001B[A";
const ENTER = "\r";
const ESC = "\u001B";
const BACKSPACE = "\u007F";

type Call =
  | ["stop"]
  | ["abort"]
  | ["pause"]
  | ["inject", string, string, Readonly<Record<string, unknown>>, number | null];

function recordingControls(
  calls: Call[],
  inject: () => Promise<void> = () => Promise.resolve(),
): DashboardControls {
  let paused = false;
  return {
    stopGracefully: () => calls.push(["stop"]),
    abortNow: () => calls.push(["abort"]),
    injectFault: (kind, target, params, durationMs) => {
      calls.push(["inject", kind, target, params, durationMs]);
      return inject();
    },
    togglePause: () => {
      calls.push(["pause"]);
      paused = !paused;
      return paused;
    },
  };
}

/** Lets ink read stdin and React commit (a few macrotask turns). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

function mount(controls: DashboardControls, source: DashboardSource = { read: () => knownFrame() }) {
  const clock = new ManualClock(0);
  const ui = render(
    <LiveDashboard
      source={source}
      controls={controls}
      clock={clock}
      periodMs={250}
      pickerContext={{ kinds: TEST_KINDS, targets: ["worker", "api", "load"] }}
    />,
  );
  cleanup = ui.unmount;
  const press = async (...keys: string[]): Promise<void> => {
    for (const k of keys) {
      ui.stdin.write(k);
      await settle();
    }
  };
  const screen = (): string[] =>
    (ui.lastFrame() ?? "")
      .replace(ANSI, "")
      .split("\n")
      .map((l) => l.trimEnd());
  return { clock, press, screen };
}

describe("LiveDashboard keys", () => {
  it("q stops gracefully once and says so; a second q does nothing more", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(recordingControls(calls));
    await settle();
    await press("q", "q");
    expect(calls).toEqual([["stop"]]);
    expect(screen()[0]).toBe(
      "faultline · burst-demo                      elapsed 0:12 remaining 0:47 STOPPING",
    );
    expect(screen()[18]).toBe("stopping: rolling faults back and writing the record");
  });

  it("Ctrl-C stops gracefully (ink's own exit on Ctrl-C is not used)", async () => {
    const calls: Call[] = [];
    const { press } = mount(recordingControls(calls));
    await settle();
    await press("\u0003");
    expect(calls).toEqual([["stop"]]);
  });

  it("a aborts now, even while stopping", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(recordingControls(calls));
    await settle();
    await press("q", "a");
    expect(calls).toEqual([["stop"], ["abort"]]);
    expect(screen()[0].endsWith("ABORTING")).toBe(true);
  });

  it("p toggles the fault timeline and reports each state", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(recordingControls(calls));
    await settle();
    await press("p");
    expect(screen()[18]).toBe("fault timeline paused");
    await press("p");
    expect(screen()[18]).toBe("fault timeline resumed");
    expect(calls).toEqual([["pause"], ["pause"]]);
  });

  it("f picker: navigate to load-burst, keep the preset, hold 5s -> injectFault(kind, target, params, ms)", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(recordingControls(calls));
    await settle();
    await press("f", UP);
    expect(screen()[8]).toBe("Inject a fault: kind (10/10)");
    await press(ENTER);
    expect(screen().slice(8, 10)).toEqual(["Inject load-burst: target", "> load"]);
    await press(ENTER);
    expect(screen().slice(8, 10)).toEqual(["Inject load-burst on load", "params: {multiplier: 2}_"]);
    await press(ENTER);
    expect(screen()[9]).toBe("hold for: 30s_");
    await press(BACKSPACE, BACKSPACE, BACKSPACE, "5", "s", ENTER);
    expect(calls).toEqual([["inject", "load-burst", "load", { multiplier: 2 }, 5000]]);
    expect(screen()[18]).toBe("injected load-burst on load");
    expect(screen()[8]).toBe("SLOs");
  });

  it("f picker: an instant kind injects after params; a bad param is named and nothing is injected", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(recordingControls(calls));
    await settle();
    // process-kill is the 9th kind (index 8): down 8 times from the first.
    await press("f", ...Array<string>(8).fill(DOWN), ENTER, DOWN, ENTER);
    expect(screen().slice(8, 10)).toEqual(["Inject process-kill on api", "params: {}_"]);
    await press(BACKSPACE, BACKSPACE, ..."{scope: nope}", ENTER);
    expect(screen()[11]).toBe(
      'error: params.scope: Invalid option: expected one of "auto"|"process"|"group"',
    );
    expect(calls).toEqual([]);
    for (let i = 0; i < "nope}".length; i++) await press(BACKSPACE);
    await press(..."group}", ENTER);
    expect(calls).toEqual([["inject", "process-kill", "api", { scope: "group" }, null]]);
  });

  it("Esc steps back out of the picker without injecting; a failed inject shows its message", async () => {
    const calls: Call[] = [];
    const { press, screen } = mount(
      recordingControls(calls, () => Promise.reject(new Error("no such target"))),
    );
    await settle();
    await press("f", ENTER, ESC, ESC);
    expect(screen()[8]).toBe("SLOs");
    expect(calls).toEqual([]);
    await press("f", UP, ENTER, ENTER, ENTER, ENTER);
    expect(calls).toEqual([["inject", "load-burst", "load", { multiplier: 2 }, 30_000]]);
    expect(screen()[18]).toBe("inject failed: no such target");
  });

  it("re-reads the source every period on the injected clock, not on its own", async () => {
    let reads = 0;
    const source: DashboardSource = {
      read: () => {
        reads++;
        return knownFrame({ elapsedMs: reads * 1000 });
      },
    };
    const { clock, screen } = mount(recordingControls([]), source);
    await settle();
    const first = reads;
    clock.advance(1000);
    await settle();
    expect(reads - first).toBe(4);
    expect(screen()[0]).toBe(
      `faultline · burst-demo                       elapsed 0:0${reads} remaining 0:5${10 - reads} RUNNING`,
    );
  });
});

describe("LiveDashboard at the end of the run", () => {
  it("ended: one fresh read (the faults' final statuses), ENDED, the picker closed", async () => {
    const reads = [
      knownFrame(),
      knownFrame({
        elapsedMs: 20_000,
        timeline: {
          paused: false,
          nowMs: 20_000,
          faults: knownFrame().timeline.faults.map((f) =>
            f.status === "active" ? { ...f, status: "reverted" as const } : f,
          ),
        },
      }),
    ];
    let i = 0;
    const source: DashboardSource = { read: () => reads[Math.min(i++, reads.length - 1)] ?? knownFrame() };
    const clock = new ManualClock(0);
    const props = {
      source,
      controls: recordingControls([]),
      clock,
      periodMs: 60_000,
      pickerContext: { kinds: TEST_KINDS, targets: ["worker"] },
    };
    const ui = render(<LiveDashboard {...props} />);
    cleanup = ui.unmount;
    await settle();
    ui.stdin.write("f");
    await settle();
    ui.rerender(<LiveDashboard {...props} ended />);
    await settle();
    const screen = (ui.lastFrame() ?? "")
      .replace(ANSI, "")
      .split("\n")
      .map((l) => l.trimEnd());
    expect(screen[0]).toBe(
      "faultline · burst-demo                         elapsed 0:20 remaining 0:40 ENDED",
    );
    expect(screen.slice(12, 16)).toEqual([
      "Faults    timeline t=0:20 running  0 active, 1 planned, 2 past",
      "  planned lat            +500ms latency on link:api       starts in 0:10",
      "  undone  burst          load x2 on load                  at 0:10",
      "  done    kill           kill worker (process) on worker  at 0:05",
    ]);
    expect(screen.slice(-2)).toEqual([
      "run over: writing the record",
      "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p pause timeline",
    ]);
  });
});
