import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { HeartbeatRead } from "../../../reference-service/ipc/protocol.js";
import { WorkerSupervisor } from "../../../reference-service/supervisor/supervisor.js";
import { FakeWorker, heartbeat } from "./fake-worker.js";

const options = {
  backoffInitialMs: 100,
  backoffMaxMs: 1000,
  backoffMultiplier: 2,
  cooldownMs: 60_000,
  budgetRestarts: 5,
  budgetWindowMs: 60_000,
  hungAfterMs: 500,
  startTimeoutMs: 1000,
  checkIntervalMs: 100,
  stopTimeoutMs: 2000,
};

/** A fake worker that may be spawned as a standby and started later. */
class SpareableWorker extends FakeWorker {
  started: boolean;
  constructor(pid: number, standby: boolean) {
    super(pid);
    this.started = !standby;
  }
  activate(): boolean {
    if (this.exited || this.started) return false;
    this.started = true;
    return true;
  }
}

/**
 * Workers that write a heartbeat once started (standbys write nothing, as worker/main.ts
 * --standby), read through a heartbeat file that the test may announce as changed.
 */
function setup(standby = true) {
  const clock = new ManualClock(1_000_000);
  const workers: SpareableWorker[] = [];
  const spawnedAsStandby: boolean[] = [];
  /** pid -> epoch ms of the heartbeat it wrote (a started worker rewrites it at every read). */
  const beats = new Map<number, number>();
  const silent = new Set<number>();
  const events: string[] = [];
  let changed = (): void => undefined;
  let watching = false;
  const reads = { count: 0 };
  const read = (now: number): Promise<HeartbeatRead> => {
    reads.count++;
    const started = workers.filter((w) => w.started && !w.exited && !silent.has(w.pid));
    const w = started[started.length - 1];
    if (w) beats.set(w.pid, now);
    const at = w ? beats.get(w.pid) : undefined;
    if (!w || at === undefined) return Promise.resolve({ ok: false, reason: "missing", detail: "" });
    return Promise.resolve({ ok: true, heartbeat: heartbeat(w.pid, at), ageMs: now - at });
  };
  const spawn = (asStandby = false) => {
    const w = new SpareableWorker(1000 + workers.length, asStandby);
    workers.push(w);
    spawnedAsStandby.push(asStandby);
    return w;
  };
  const sup = new WorkerSupervisor(
    { ...options, standby },
    spawn,
    read,
    clock,
    { workerUp: (up: boolean) => events.push(`up=${up} @${clock.now()}`) },
    (onChange) => {
      changed = onChange;
      watching = true;
      return () => (watching = false);
    },
  );
  return {
    clock,
    workers,
    spawnedAsStandby,
    silent,
    events,
    sup,
    reads,
    heartbeatChanged: () => changed(),
    watching: () => watching,
  };
}

describe("WorkerSupervisor with a standby worker", () => {
  it("spawns one spare once the worker is ready, and a restart starts the spare instead of a new process", async () => {
    const { clock, workers, spawnedAsStandby, sup } = setup();
    sup.start();
    expect(spawnedAsStandby).toEqual([false]);
    await clock.advanceAsync(100); // first heartbeat read: running, ready
    expect(spawnedAsStandby).toEqual([false, true]);
    await clock.advanceAsync(1000); // more heartbeats of the same worker: still one spare
    expect(spawnedAsStandby).toEqual([false, true]);
    workers[0].exit(null, "SIGKILL");
    expect(sup.msUntilRestart()).toEqual(100); // the backoff is unchanged
    await clock.advanceAsync(100);
    expect(workers[1].started).toEqual(true);
    expect(sup.status()).toMatchObject({ state: "starting", pid: 1001, restarts: 1 });
    await clock.advanceAsync(100); // the spare's first heartbeat: running, and a new spare beside it
    expect(sup.status()).toMatchObject({ state: "running", pid: 1001 });
    expect(spawnedAsStandby).toEqual([false, true, true]);
    expect(workers[2].started).toEqual(false);
  });

  it("a spare that died is replaced by a fresh process at the restart, and not respawned in a loop", async () => {
    const { clock, workers, spawnedAsStandby, sup } = setup();
    sup.start();
    await clock.advanceAsync(100);
    workers[1].exit(1, null); // the spare dies while waiting
    await clock.advanceAsync(1000);
    expect(spawnedAsStandby).toEqual([false, true]); // not respawned for the same worker
    expect(sup.status()).toMatchObject({ state: "running", pid: 1000, restarts: 0 });
    workers[0].exit(null, "SIGKILL");
    await clock.advanceAsync(100);
    expect(spawnedAsStandby).toEqual([false, true, false]);
    expect(sup.status()).toMatchObject({ state: "starting", pid: 1002 });
  });

  it("reads the heartbeat at once when its file changes while the worker is starting, not at the next check", async () => {
    const { clock, events, sup, silent, reads, heartbeatChanged } = setup(false);
    silent.add(1000); // no heartbeat yet
    sup.start();
    await clock.advanceAsync(30);
    silent.delete(1000); // the worker writes its heartbeat at 1000030 ...
    heartbeatChanged(); // ... and the watch reports it
    await clock.advanceAsync(0);
    expect(sup.status()).toMatchObject({ state: "running", pid: 1000 });
    expect(events).toEqual(["up=true @1000030"]);
    await clock.advanceAsync(1000);
    const before = reads.count;
    heartbeatChanged(); // ready and seen: a change is left to the checks
    await clock.advanceAsync(0);
    expect(reads.count).toEqual(before);
  });

  it("stops the spare with the worker, and the heartbeat watch", async () => {
    const { clock, workers, sup, watching } = setup();
    sup.start();
    expect(watching()).toEqual(true);
    await clock.advanceAsync(100);
    await sup.stop();
    expect([workers[0].signals, workers[1].signals]).toEqual([["SIGTERM", "SIGCONT"], ["SIGKILL"]]);
    expect([sup.status().state, watching()]).toEqual(["stopped", false]);
  });

  it("without standby, spawns no spare", async () => {
    const { clock, workers, spawnedAsStandby, sup } = setup(false);
    sup.start();
    await clock.advanceAsync(100);
    workers[0].exit(null, "SIGKILL");
    await clock.advanceAsync(100);
    expect(spawnedAsStandby).toEqual([false, false]);
  });
});
