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
});
