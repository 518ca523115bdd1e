import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { waitForRecovery, type ContainerLife } from "../../../harness/docker/recovery.js";

/** Probes that answer from a script indexed by the manual clock's time. */
function scripted(clock: ManualClock, life: (t: number) => ContainerLife | null, readyFrom: number) {
  return {
    inspect: () => Promise.resolve(life(clock.now())),
    ready: () => Promise.resolve(clock.now() >= readyFrom),
  };
}

describe("waitForRecovery", () => {
  const base = { restartCountBefore: 0, startedAtBeforeMs: 500, timeoutMs: 5000, pollMs: 100 };

  it("measures running and ready separately from the outage start (restart policy)", async () => {
    const clock = new ManualClock(1000);
    // Killed at 1000; the engine restarts it at 1300; the service answers ready from 1750.
    const probes = scripted(
      clock,
      (t) =>
        t < 1300
          ? { running: false, restartCount: 0, startedAtMs: 500 }
          : { running: true, restartCount: 1, startedAtMs: 1300 },
      1750,
    );
    const done = waitForRecovery(probes, { ...base, clock, fromMs: 1000 });
    for (let i = 0; i < 10; i++) await clock.advanceAsync(100);
    // Polls at 1000, 1100, ...: running first seen at 1300, ready first seen at 1800.
    expect(await done).toEqual({ runningAfterMs: 300, readyAfterMs: 800, restarts: 1 });
  });

  it("a container still running the old process has not recovered (no restart, same StartedAt)", async () => {
    const clock = new ManualClock(0);
    const probes = scripted(clock, () => ({ running: true, restartCount: 0, startedAtMs: 500 }), 0);
    const done = waitForRecovery(probes, { ...base, clock, fromMs: 0, timeoutMs: 300 });
    for (let i = 0; i < 5; i++) await clock.advanceAsync(100);
    expect(await done).toEqual({ runningAfterMs: null, readyAfterMs: null, restarts: 0 });
  });

  it("docker restart moves StartedAt without RestartCount: that counts as started again", async () => {
    const clock = new ManualClock(0);
    const probes = scripted(
      clock,
      (t) => (t < 200 ? null : { running: true, restartCount: 0, startedAtMs: 600 }),
      400,
    );
    const done = waitForRecovery(probes, { ...base, clock, fromMs: 0 });
    for (let i = 0; i < 6; i++) await clock.advanceAsync(100);
    expect(await done).toEqual({ runningAfterMs: 200, readyAfterMs: 400, restarts: 0 });
  });

  it("running but never ready within the timeout reports running only", async () => {
    const clock = new ManualClock(0);
    const probes = scripted(clock, () => ({ running: true, restartCount: 2, startedAtMs: 900 }), 10_000);
    const done = waitForRecovery(probes, { ...base, clock, fromMs: 0, timeoutMs: 250 });
    for (let i = 0; i < 4; i++) await clock.advanceAsync(100);
    expect(await done).toEqual({ runningAfterMs: 0, readyAfterMs: null, restarts: 2 });
  });
});
