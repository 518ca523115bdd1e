/**
 * Percentiles by the nearest-rank method, stated once here and used everywhere:
 *
 *   P(p) of n sorted values x[1..n] is x[ceil(p/100 * n)]; for p = 0 it is x[1]; for n = 0 none.
 *
 * Nearest-rank always returns a value that was observed (no interpolation), so "P99 = 812 ms"
 * means some request really took 812 ms. With fewer than 100 values P99 is the maximum.
 */
export interface PercentileSummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Rank (1-based) of percentile p among n values; guards float noise such as 0.95 * 20 = 19.000000000000004. */
export function nearestRankIndex(n: number, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  return Math.max(1, Math.ceil((p * n) / 100 - 1e-9));
}

/** P(p) of values already sorted ascending; null when empty. */
export function nearestRank(sortedAsc: ArrayLike<number>, p: number): number | null {
  const n = sortedAsc.length;
  if (n === 0) return null;
  return sortedAsc[nearestRankIndex(n, p) - 1];
}

/** P50/P95/P99/max of unsorted values (NaN values are ignored). */
export function summarize(values: ArrayLike<number>): PercentileSummary {
  const sorted = Float64Array.from(values)
    .filter((v) => !Number.isNaN(v))
    .sort();
  return {
    count: sorted.length,
    p50: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    p99: nearestRank(sorted, 99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1],
  };
}
