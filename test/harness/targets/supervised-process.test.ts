import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { SupervisedProcess } from "../../../harness/targets/supervised-process.js";
import { waitForLine } from "../../../harness/targets/process-io.js";

/** A real child that prints "ready <pid>" and then idles until killed. */
const SCRIPT = 'console.log("ready " + process.pid); setInterval(() => {}, 1000);';

let keeper: SupervisedProcess | null = null;

afterEach(async () => {
  await keeper?.stop(2000);
  keeper = null;
});

function make(restart: boolean, events: string[]): SupervisedProcess {
  return new SupervisedProcess({
    spawn: (): ChildProcess =>
      spawn(process.execPath, ["-e", SCRIPT], { stdio: ["ignore", "pipe", "ignore"] }),
    waitReady: async (child) => {
      await waitForLine(child, /ready \d+/, 10_000, "test child");
    },
    policy: { initialDelayMs: 50, maxDelayMs: 50, multiplier: 2, resetAfterMs: 60_000 },
    restart,
    clock: systemClock,
    onEvent: (m) => events.push(m),
  });
}

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("SupervisedProcess (real child processes)", () => {
  it("restarts a process killed from outside, after the policy's delay, and reports both", async () => {
    const events: string[] = [];
    keeper = make(true, events);
    await keeper.start();
    const first = keeper.pid() ?? 0;
    process.kill(first, "SIGKILL");
    await until(() => events.length === 2);
    const second = keeper.pid();
    expect(second).not.toBe(first);
    expect(events).toEqual([
      `process ${first} killed by SIGKILL; restarting in 50 ms`,
      `process restarted as pid ${second}`,
    ]);
  });

  it('with restart "never" it stays down', async () => {
    const events: string[] = [];
    keeper = make(false, events);
    await keeper.start();
    const pid = keeper.pid() ?? 0;
    process.kill(pid, "SIGKILL");
    await until(() => events.length === 1);
    expect(events).toEqual([`process ${pid} killed by SIGKILL; restart policy "never": staying down`]);
    expect(keeper.pid()).toBe(null);
  });

  it("stop() is not a crash: no restart, the process is gone", async () => {
    const events: string[] = [];
    keeper = make(true, events);
    await keeper.start();
    const pid = keeper.pid() ?? 0;
    await keeper.stop(2000);
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual([]);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("a graceful restart on request starts a new process at once", async () => {
    const events: string[] = [];
    keeper = make(true, events);
    await keeper.start();
    const first = keeper.pid();
    await keeper.restartNow(2000);
    expect(keeper.pid()).not.toBe(first);
    expect(events).toEqual(["graceful restart requested", `process restarted as pid ${keeper.pid()}`]);
  });
});
