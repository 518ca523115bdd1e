import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { emptyCounts, type OutcomeCounts } from "../../../common/outcome.js";
import { abortReason, AbortMonitor, type AbortView } from "../../../harness/runner/abort.js";

const counts = (c: Partial<OutcomeCounts>): OutcomeCounts => ({ ...emptyCounts(), ...c });

describe("abort conditions", () => {
  it("error-budget-spent fires once bad answers exceed (1 - target) x planned requests", () => {
    const cond = [{ kind: "error-budget-spent" as const, target: 0.99 }];
    // 1000 planned requests at 99%: budget 10 bad answers. Degraded counts as good here.
    const view = (bad: number): AbortView => ({
      elapsedMs: 5000,
      totals: counts({ ok: 500, degraded: 7, conn: bad }),
      lastSeconds: [],
    });
    expect(abortReason(cond, view(10), 1000)).toBe(null);
    expect(abortReason(cond, view(11), 1000)).toBe(
      "error budget spent: 11 bad answers > budget 10 (99% of 1000)",
    );
  });

  it("availability-below judges whole past seconds only, and not before the window has elapsed", () => {
    const cond = [{ kind: "availability-below" as const, min: 0.9, over: 2000, degradedCountsAsGood: false }];
    const lastSeconds = [
      { second: 3, counts: counts({ ok: 10 }) },
      { second: 4, counts: counts({ ok: 8, degraded: 2 }) },
      { second: 5, counts: counts({ ok: 7, error: 3 }) },
      { second: 6, counts: counts({ error: 10 }) }, // the current, partial second: ignored
    ];
    // At 6.5 s the window is seconds 4 and 5: 15 good of 20 = 75% < 90%.
    expect(abortReason(cond, { elapsedMs: 6500, totals: emptyCounts(), lastSeconds }, 1000)).toBe(
      "availability 75.00% over the last 2s < 90%",
    );
    // With degraded counted as good: 17/20 = 85%, still below.
    const dg = [{ ...cond[0], degradedCountsAsGood: true }];
    expect(abortReason(dg, { elapsedMs: 6500, totals: emptyCounts(), lastSeconds }, 1000)).toBe(
      "availability 85.00% over the last 2s < 90%",
    );
    // Before over + 1 s has elapsed no full window exists yet.
    expect(abortReason(cond, { elapsedMs: 2999, totals: emptyCounts(), lastSeconds }, 1000)).toBe(null);
    // A window without answers is not judged.
    expect(abortReason(cond, { elapsedMs: 20_000, totals: emptyCounts(), lastSeconds }, 1000)).toBe(null);
  });

  it("the monitor polls on its period and fires exactly once", async () => {
    const clock = new ManualClock(0);
    let bad = 0;
    const fired: { at: number; reason: string }[] = [];
    const monitor = new AbortMonitor({
      conditions: [{ kind: "error-budget-spent", target: 0.9 }],
      plannedRequests: 100,
      clock,
      periodMs: 250,
      view: () => ({ elapsedMs: clock.now(), totals: counts({ error: bad }), lastSeconds: [] }),
      onAbort: (reason) => fired.push({ at: clock.now(), reason }),
    });
    monitor.start();
    await clock.advanceAsync(600);
    bad = 11;
    await clock.advanceAsync(2000);
    expect(fired).toEqual([
      { at: 750, reason: "error budget spent: 11 bad answers > budget 10 (90% of 100)" },
    ]);
    expect(clock.pendingTimers).toBe(0);
    monitor.stop();
  });
});
