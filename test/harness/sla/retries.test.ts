import { describe, expect, it } from "vitest";
import { analyzeRun, columnsFromRows, type RequestRow } from "../../../harness/sla/index.js";
import type { RetryLog } from "../../../harness/sla/retries.js";

/**
 * A 4 s run at 5 req/s (rows every 200 ms). The rows at 1000 and 1200 are shed; the first is
 * retried at 2000 (ok), the second at 2200 (shed again); the row at 1400 is shed without a
 * usable Retry-After. 22 rows: 20 arrivals + 2 retries, in intended order.
 */
function run(): { rows: RequestRow[]; retries: RetryLog } {
  const rows: RequestRow[] = [];
  for (let t = 0; t < 4000; t += 200) {
    const shed = t === 1000 || t === 1200 || t === 1400;
    rows.push({ intended: t, end: t + 10, outcome: shed ? "shed" : "ok" });
    if (t === 2000) rows.push({ intended: 2000, end: 2010, outcome: "ok" });
    if (t === 2200) rows.push({ intended: 2200, end: 2210, outcome: "shed" });
  }
  // The arrival at 2000 is row 10 and the retry due then row 11; the retry at 2200 is row 13.
  return {
    rows,
    retries: {
      links: [
        { row: 11, of: 5, retryAfterMs: 990 },
        { row: 13, of: 6, retryAfterMs: 990 },
      ],
      withoutRetryAfter: 1,
      unsent: 0,
    },
  };
}

describe("SLA engine: retries at Retry-After", () => {
  it("judges retry-after as good retries / (retries + shed without Retry-After), and availability by final attempt", () => {
    const { rows, retries } = run();
    expect(rows.length).toBe(22);
    expect([5, 6, 11, 13].map((i) => rows[i]?.intended)).toEqual([1000, 1200, 2000, 2200]);
    const r = analyzeRun({
      columns: columnsFromRows(rows),
      durationMs: 4000,
      faults: [],
      seed: 1,
      retries,
      availabilityAttempts: "final",
      slos: [
        { id: "final", kind: "availability", min: 0.9, attempts: "final" },
        { id: "each", kind: "availability", min: 0.9 },
        { id: "retry", kind: "retry-after", min: 0.5 },
        { id: "retry-strict", kind: "retry-after", min: 0.99 },
        { id: "too-few", kind: "retry-after", min: 0.1, minRetries: 4 },
      ],
    });
    // Final attempts: 22 rows minus the 2 retried shed rows = 20 requests; bad: row 1400, and
    // the retry at 2200 shed again = 18/20. Every attempt: 4 shed of 22 = 18/22.
    expect(r.availability).toEqual({ value: 0.9, degradedCountsAsGood: true, attempts: "final" });
    // The headline error budget counts the same 20 requests: 2 bad against 0.1% of 20.
    expect(r.errorBudget.badRequests).toBe(2);
    expect(r.errorBudget.budgetRequests).toBeCloseTo(0.02, 12);
    expect(r.retries).toEqual({
      sent: 2,
      outcomes: { ok: 1, degraded: 0, shed: 1, error: 0, timeout: 0, conn: 0 },
      withoutRetryAfter: 1,
      unsent: 0,
      retryAfterMs: { count: 2, p50: 990, p95: 990, p99: 990, max: 990 },
    });
    const slo = (id: string) => {
      const v = r.slos.find((x) => x.id === id);
      if (v === undefined) throw new Error(`no verdict ${id}`);
      return v;
    };
    expect([slo("final").measured, slo("final").passed]).toEqual([0.9, true]);
    // The description names the level judged (default full; no degraded rows here, so the
    // measured value is the same at both levels).
    expect(slo("final").description).toBe(
      "availability (full service) >= 90% (each request by its final attempt)",
    );
    expect([slo("each").measured, slo("each").passed]).toEqual([18 / 22, false]);
    // 1 good of 2 retries + 1 shed answer without Retry-After = 1/3.
    expect([slo("retry").measured, slo("retry").passed]).toEqual([1 / 3, false]);
    expect(slo("retry").description).toBe("retries at Retry-After answered good >= 50% (1 of 3)");
    expect(slo("retry-strict").metric).toBe("retries.goodRatio");
    expect([slo("too-few").measured, slo("too-few").passed]).toEqual([null, false]);
    expect(slo("too-few").description).toBe(
      "retries at Retry-After answered good >= 10% (1 of 3; needs at least 4, so Retry-After was not exercised)",
    );
  });

  it("without retries, final and each agree and there is no retry summary", () => {
    const rows: RequestRow[] = [
      { intended: 0, end: 5, outcome: "ok" },
      { intended: 100, end: 105, outcome: "shed" },
    ];
    const r = analyzeRun({
      columns: columnsFromRows(rows),
      durationMs: 200,
      faults: [],
      seed: 1,
      slos: [
        { kind: "availability", min: 0.5, attempts: "final" },
        { kind: "retry-after", min: 0.5 },
      ],
    });
    expect(r.retries).toBeNull();
    expect(r.availability).toEqual({ value: 0.5, degradedCountsAsGood: true, attempts: "each" });
    expect(r.slos.map((s) => [s.measured, s.passed])).toEqual([
      [0.5, true],
      [null, false],
    ]);
  });
});
