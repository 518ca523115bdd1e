import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { HeartbeatRead } from "../../../reference-service/ipc/protocol.js";
import { WorkerSupervisor, type RestartCause } from "../../../reference-service/supervisor/supervisor.js";
import { FakeWorker, heartbeat } from "./fake-worker.js";

const options = {
  backoffInitialMs: 100,
  backoffMaxMs: 1000,
  backoffMultiplier: 2,
  cooldownMs: 60_000,
  budgetRestarts: 2,
  budgetWindowMs: 60_000,
  hungAfterMs: 500,
  startTimeoutMs: 1000,
  checkIntervalMs: 100,
  stopTimeoutMs: 2000,
};

function setup(overrides: Partial<typeof options> = {}) {
  const clock = new ManualClock(1_000_000);
  const workers: FakeWorker[] = [];
  /** pid -> epoch ms of its last heartbeat; absent = never wrote one. */
  const beats = new Map<number, number>();
  /** pids whose heartbeat keeps being rewritten at every read (a live worker). */
  const live = new Set<number>();
  const events: string[] = [];
  /** While set, heartbeat reads wait for it (a read in flight when the container froze). */
  const gate: { hold: Promise<void> | undefined } = { hold: undefined };
  const read = async (now: number): Promise<HeartbeatRead> => {
    if (gate.hold) await gate.hold;
    const current = workers[workers.length - 1];
    if (!current) return Promise.resolve({ ok: false, reason: "missing", detail: "" });
    if (live.has(current.pid)) beats.set(current.pid, now);
    const at = beats.get(current.pid);
    if (at === undefined) return Promise.resolve({ ok: false, reason: "missing", detail: "" });
    return Promise.resolve({ ok: true, heartbeat: heartbeat(current.pid, at), ageMs: now - at });
  };
  const spawn = () => {
    const w = new FakeWorker(1000 + workers.length);
    workers.push(w);
    live.add(w.pid);
    return w;
  };
  const sup = new WorkerSupervisor({ ...options, ...overrides }, spawn, read, clock, {
    restart: (cause: RestartCause, delay: number) => events.push(`restart ${cause} ${delay} @${clock.now()}`),
    giveUp: (reason: string) => events.push(`give-up @${clock.now()}: ${reason}`),
    workerUp: (up: boolean) => events.push(`up=${up} @${clock.now()}`),
  });
  return { clock, workers, live, beats, events, sup, gate };
}

describe("WorkerSupervisor", () => {
  it("marks the worker running at its first heartbeat and respawns it after a crash with backoff", async () => {
    const { clock, workers, events, sup } = setup();
    sup.start();
    expect(sup.status().state).toEqual("starting");
    await clock.advanceAsync(100);
    expect(sup.status()).toMatchObject({ state: "running", pid: 1000, restarts: 0, lastHeartbeatMs: 0 });
    workers[0].exit(null, "SIGKILL");
    expect(sup.status()).toMatchObject({
      state: "restarting",
      pid: null,
      restarts: 1,
      lastRestartCause: "crash",
    });
    expect(sup.msUntilRestart()).toEqual(100);
    await clock.advanceAsync(99);
    expect(workers.length).toEqual(1);
    await clock.advanceAsync(1);
    expect(workers.length).toEqual(2);
    expect(sup.status()).toMatchObject({ state: "starting", pid: 1001 });
    await clock.advanceAsync(100);
    expect(sup.status().state).toEqual("running");
    expect(events).toEqual([
      "up=true @1000100",
      "up=false @1000100", // crash at 1000100
      "restart crash 100 @1000100",
      "up=true @1000300", // respawn at 1000200, its first heartbeat read at the check of 1000300
    ]);
  });

  it("refreshHeartbeat reads a newer heartbeat between checks (a model operation's result) and never judges", async () => {
    const { clock, live, beats, sup } = setup();
    sup.start();
    await clock.advanceAsync(100); // first heartbeat read at 1000100
    live.delete(1000);
    beats.set(1000, 1000150); // the worker wrote one at 1000150, before the next check (1000200)
    clock.advance(50);
    expect(sup.status().heartbeat?.atMs).toEqual(1000100);
    await sup.refreshHeartbeat();
    expect(sup.status().heartbeat?.atMs).toEqual(1000150);
    beats.set(1000, 1000120); // an older file (a read racing a rewrite) does not go back in time
    await sup.refreshHeartbeat();
    expect(sup.status().heartbeat?.atMs).toEqual(1000150);
    beats.set(1000, 0); // even a very stale one is only read here: the watchdog alone kills
    await sup.refreshHeartbeat();
    expect(sup.status()).toMatchObject({ state: "running", restarts: 0 });
  });

  it("kills a hung worker (stale heartbeat) with SIGKILL at the first check past hungAfterMs", async () => {
    const { clock, workers, live, events, sup } = setup();
    sup.start();
    await clock.advanceAsync(100); // heartbeat at 1000100
    live.delete(1000); // frozen from here on (SIGSTOP)
    await clock.advanceAsync(500); // age 500 at t=1000600: not yet past 500
    expect(workers[0].signals).toEqual([]);
    await clock.advanceAsync(100); // age 600 > 500
    expect(workers[0].signals).toEqual(["SIGKILL"]);
    expect(sup.status()).toMatchObject({ state: "restarting", lastRestartCause: "hung", restarts: 1 });
    expect(events).toContain("restart hung 100 @1000700");
  });

  it("does not kill a worker frozen together with it (docker pause): staleness counts from its own resumption", async () => {
    const { clock, workers, live, events, sup } = setup();
    sup.start();
    await clock.advanceAsync(100); // heartbeat at 1000100
    live.delete(1000); // the whole container freezes: the worker writes nothing ...
    clock.freeze(5000); // ... and no supervisor timer fires for 5 s
    await clock.advanceAsync(0); // the overdue check runs at 1005100: heartbeat 5000 ms old
    expect(workers[0].signals).toEqual([]);
    live.add(1000); // the worker's next heartbeat after the unpause
    await clock.advanceAsync(1000);
    expect(workers[0].signals).toEqual([]);
    expect(sup.status()).toMatchObject({ state: "running", restarts: 0, lastHeartbeatMs: 0 });
    expect(events).toEqual(["up=true @1000100"]);
  });

  it("does not kill the worker when the freeze hits between a check's start and its verdict", async () => {
    const { clock, workers, live, sup, gate } = setup();
    sup.start();
    await clock.advanceAsync(100); // heartbeat at 1000100
    let release = (): void => undefined;
    gate.hold = new Promise<void>((r) => (release = r));
    live.delete(1000);
    await clock.advanceAsync(100); // the check of 1000200 starts its read ...
    clock.freeze(5000); // ... the container freezes ...
    gate.hold = undefined;
    release(); // ... and the read completes after the unpause: the heartbeat read is 5100 ms old
    await clock.advanceAsync(0);
    expect(workers[0].signals).toEqual([]);
    live.add(1000);
    await clock.advanceAsync(1000);
    expect(workers[0].signals).toEqual([]);
    expect(sup.status()).toMatchObject({ state: "running", restarts: 0 });
  });

  it("does not kill a late worker when the supervisor itself stalled for less than hungAfterMs (CPU starvation)", async () => {
    // The defaults: checks every 50 ms, hung after 2000 ms; a stall of 5 missed checks is a pause.
    const { clock, workers, live, sup } = setup({ checkIntervalMs: 50, hungAfterMs: 2000 });
    sup.start();
    await clock.advanceAsync(50); // heartbeat at 1000050
    live.delete(1000); // the worker is late ...
    await clock.advanceAsync(600); // ... seen silent 600 ms by checks on time
    clock.freeze(1500); // the supervisor's process is not scheduled for 1.5 s
    await clock.advanceAsync(0); // the overdue check: the beat is 2100 ms old, but seen for 0 of them
    expect(workers[0].signals).toEqual([]);
    live.add(1000); // the worker beats again
    await clock.advanceAsync(2000);
    expect(workers[0].signals).toEqual([]);
    expect(sup.status()).toMatchObject({ state: "running", restarts: 0 });
  });

  it("kills a worker still stale hungAfterMs after the supervisor resumed from a pause", async () => {
    const { clock, workers, events, live, sup } = setup();
    sup.start();
    await clock.advanceAsync(100); // heartbeat at 1000100
    live.delete(1000); // hung, and stays hung after the pause
    clock.freeze(5000);
    await clock.advanceAsync(500); // checks at 1005100 (resumed) ... 1005600: seen stale 500, not past
    expect(workers[0].signals).toEqual([]);
    await clock.advanceAsync(100); // 1005700: seen stale 600 > 500
    expect(workers[0].signals).toEqual(["SIGKILL"]);
    expect(events).toContain("restart hung 100 @1005700");
  });

  it("does not count a pause of the supervisor against a starting worker's start timeout", async () => {
    const { clock, workers, live, sup } = setup();
    live.clear();
    sup.start();
    live.delete(1000); // never writes a heartbeat
    await clock.advanceAsync(100);
    clock.freeze(5000); // longer than startTimeoutMs (1000)
    await clock.advanceAsync(1000); // resumed at 1005100: waited 1000 since then, not past
    expect(workers[0].signals).toEqual([]);
    await clock.advanceAsync(100);
    expect(workers[0].signals).toEqual(["SIGKILL"]);
    expect(sup.status().lastRestartCause).toEqual("start_timeout");
  });

  it("kills a worker that never sends its first heartbeat", async () => {
    const { clock, workers, live, sup } = setup();
    sup.start();
    live.delete(1000); // never writes a heartbeat
    await clock.advanceAsync(1000); // waited exactly startTimeoutMs: not yet
    expect(workers[0].signals).toEqual([]);
    await clock.advanceAsync(100);
    expect(workers[0].signals).toEqual(["SIGKILL"]);
    expect(sup.status().lastRestartCause).toEqual("start_timeout");
  });

  it("gives up past the restart budget and stays down", async () => {
    const { clock, workers, events, sup } = setup();
    sup.start();
    await clock.advanceAsync(100);
    workers[0].exit(1, null); // restart 1 after 100
    await clock.advanceAsync(100);
    workers[1].exit(1, null); // restart 2 after 200
    await clock.advanceAsync(200);
    workers[2].exit(1, null); // budget of 2 spent
    await clock.advanceAsync(10_000);
    expect(workers.length).toEqual(3);
    const status = sup.status();
    expect(status.state).toEqual("given-up");
    expect(status.restarts).toEqual(2);
    expect(status.reason).toEqual(
      "worker 1002 ended (code 1, cause crash); restart budget spent: 2 restarts in 60000 ms; not restarting",
    );
    expect(events.filter((e) => e.startsWith("give-up"))).toEqual([`give-up @1000400: ${status.reason}`]);
  });

  it("stops with SIGTERM, and SIGKILL after stopTimeoutMs when the worker ignores it", async () => {
    const { clock, workers, sup } = setup();
    sup.start();
    await clock.advanceAsync(100);
    workers[0].ignoreTerm = true;
    const stopped = sup.stop();
    await clock.advanceAsync(1999);
    expect(workers[0].signals).toEqual(["SIGTERM", "SIGCONT"]);
    await clock.advanceAsync(1);
    await stopped;
    expect(workers[0].signals).toEqual(["SIGTERM", "SIGCONT", "SIGKILL"]);
    expect(sup.status().state).toEqual("stopped");
    expect(workers.length).toEqual(1);
  });
});
