import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { dashboardControlsFrom } from "../../../harness/dashboard/index.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { FaultScheduler } from "../../../harness/faults/scheduler.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-dash-controls-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(withLoad = true) {
  const clock = new ManualClock(1_000_000);
  const multipliers: number[] = [];
  const scheduler = new FaultScheduler([], {
    clock,
    journal: new FaultJournal(dir),
    targets: { load: {} },
    seed: 1,
    ...(withLoad ? { load: { setRateMultiplier: (m: number) => multipliers.push(m) } } : {}),
  });
  scheduler.start();
  const stops: string[] = [];
  const controls = dashboardControlsFrom({
    scheduler,
    stop: () => stops.push("stop"),
    abort: () => stops.push("abort"),
  });
  return { clock, multipliers, scheduler, controls, stops };
}

describe("dashboardControlsFrom (real FaultScheduler and journal)", () => {
  it("a picked fault is injected, recorded as manual, and reverted by its duration", async () => {
    const { clock, multipliers, scheduler, controls } = setup();
    await controls.injectFault("load-burst", "load", { multiplier: 2 }, 1000);
    expect(multipliers).toEqual([2]);
    expect(scheduler.occurrences().map((o) => [o.faultId, o.status, o.manual, o.description])).toEqual([
      ["manual-1", "active", true, "load x2"],
    ]);
    await clock.advanceAsync(1000);
    await scheduler.settled();
    expect(multipliers).toEqual([2, 1]);
    expect(scheduler.occurrences()[0].status).toBe("reverted");
    expect(await readdir(dir)).toEqual([]);
  });

  it("bad params reject naming the field; a failing inject rejects with its error", async () => {
    const { controls } = setup();
    await expect(controls.injectFault("load-burst", "load", { multiplier: -1 }, null)).rejects.toThrow(
      /multiplier/,
    );
    const noLoad = setup(false);
    await expect(noLoad.controls.injectFault("load-burst", "load", { multiplier: 2 }, null)).rejects.toThrow(
      "load-burst needs the load generator",
    );
  });

  it("p pauses and resumes the timeline; q and a call the run's stop and abort", () => {
    const { scheduler, controls, stops } = setup();
    expect(controls.togglePause()).toBe(true);
    expect(scheduler.paused).toBe(true);
    expect(controls.togglePause()).toBe(false);
    expect(scheduler.paused).toBe(false);
    controls.stopGracefully();
    controls.abortNow();
    expect(stops).toEqual(["stop", "abort"]);
  });
});
