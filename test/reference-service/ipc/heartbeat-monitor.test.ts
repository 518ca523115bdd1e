import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { HeartbeatMonitor } from "../../../reference-service/ipc/heartbeat-monitor.js";
import { heartbeat } from "../supervisor/fake-worker.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function writeBeat(stateDir: string, atMs: number): Promise<void> {
  const file = join(stateDir, STATE_FILES.heartbeat);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(heartbeat(process.pid, atMs)));
}

describe("HeartbeatMonitor", () => {
  it("does not call a heartbeat stale for the time the monitor itself was frozen", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "faultline-hbmon-"));
    dirs.push(stateDir);
    const clock = new ManualClock(1_000_000);
    await writeBeat(stateDir, clock.now());
    let polls = 0;
    const monitor = new HeartbeatMonitor({
      stateDir,
      clock,
      pollMs: 100,
      staleMs: 1000,
      isPidAlive: () => true,
      onPoll: () => polls++,
    });
    await monitor.start();
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 0 });

    // The whole container freezes for 5 s: no poll runs and no heartbeat is written.
    clock.freeze(5000);
    await clock.advanceAsync(0); // the overdue poll runs at the unpause
    await vi.waitFor(() => expect(polls).toBe(2));
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 5000 });

    // A worker that stays silent after the unpause goes stale staleMs after it.
    for (let i = 0; i < 10; i++) {
      await clock.advanceAsync(100);
      await vi.waitFor(() => expect(polls).toBe(3 + i));
    }
    expect(monitor.status().ok).toBe(true); // seen stale for exactly 1000 ms
    await clock.advanceAsync(100);
    await vi.waitFor(() => expect(polls).toBe(13));
    expect(monitor.status()).toMatchObject({ ok: false, reason: "worker heartbeat is stale (6100 ms old)" });
    monitor.stop();
  });

  it("does not call a late heartbeat stale when the monitor itself missed its polls for less than staleMs (CPU starvation)", async () => {
    // A run of claim-no-request-lost-on-restart-2-replicas: the replica carrying all the load
    // while the other one's new processes started stopped answering for about 900 ms on a
    // loaded 2-core machine, its worker's last beat already 400 ms old; its first poll after
    // that found the beat 1302 ms old, failed every call in flight and opened the breaker.
    const stateDir = await mkdtemp(join(tmpdir(), "faultline-hbmon-"));
    dirs.push(stateDir);
    const clock = new ManualClock(1_000_000);
    await writeBeat(stateDir, clock.now());
    let polls = 0;
    const monitor = new HeartbeatMonitor({
      stateDir,
      clock,
      pollMs: 50,
      staleMs: 1000,
      isPidAlive: () => true,
      onPoll: () => polls++,
    });
    await monitor.start();
    // The worker is late (no beat for 400 ms) while the monitor still polls on time ...
    for (let i = 1; i <= 8; i++) {
      await clock.advanceAsync(50);
      await vi.waitFor(() => expect(polls).toBe(1 + i));
    }
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 400 });
    // ... then the monitor's own process is not scheduled for 900 ms (less than staleMs).
    clock.freeze(900);
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 1300 });
    await clock.advanceAsync(0); // the overdue poll: the worker has not run yet either
    await vi.waitFor(() => expect(polls).toBe(10));
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 1300 });
    // The worker's next beat after the stall: fresh again.
    await writeBeat(stateDir, clock.now() + 20);
    await clock.advanceAsync(50);
    await vi.waitFor(() => expect(polls).toBe(11));
    expect(monitor.status()).toMatchObject({ ok: true, ageMs: 30 });
    monitor.stop();
  });

  it("still calls a silent worker stale staleMs after the monitor resumed from a short stall", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "faultline-hbmon-"));
    dirs.push(stateDir);
    const clock = new ManualClock(1_000_000);
    await writeBeat(stateDir, clock.now());
    let polls = 0;
    const monitor = new HeartbeatMonitor({
      stateDir,
      clock,
      pollMs: 50,
      staleMs: 1000,
      isPidAlive: () => true,
      onPoll: () => polls++,
    });
    await monitor.start();
    clock.freeze(900); // stalled 900 ms, resumed at 1_000_900; the worker never beats again
    await clock.advanceAsync(0);
    await vi.waitFor(() => expect(polls).toBe(2));
    for (let i = 1; i <= 20; i++) {
      await clock.advanceAsync(50);
      await vi.waitFor(() => expect(polls).toBe(2 + i));
    }
    expect(monitor.status().ok).toBe(true); // seen silent for exactly 1000 ms
    await clock.advanceAsync(50);
    await vi.waitFor(() => expect(polls).toBe(23));
    expect(monitor.status()).toMatchObject({ ok: false, reason: "worker heartbeat is stale (1950 ms old)" });
    monitor.stop();
  });
});
