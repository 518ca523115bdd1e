import { OUTCOMES, emptyCounts, isGood, type OutcomeCounts } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";

/** Good-by-code table for one choice of how degraded answers count. */
export function goodCodes(degradedCountsAsGood: boolean): readonly boolean[] {
  return OUTCOMES.map((o) => isGood(o, degradedCountsAsGood));
}

/** Outcome counts of rows [from, to). */
export function countRows(c: RequestColumns, from = 0, to = c.length): OutcomeCounts {
  const counts = emptyCounts();
  for (let i = from; i < to; i++) {
    const o = OUTCOMES[c.outcome[i]];
    if (o !== undefined) counts[o]++;
  }
  return counts;
}

export function totalOf(counts: OutcomeCounts): number {
  return OUTCOMES.reduce((s, o) => s + counts[o], 0);
}

export function goodOf(counts: OutcomeCounts, degradedCountsAsGood: boolean): number {
  return counts.ok + (degradedCountsAsGood ? counts.degraded : 0);
}

/** Request-based availability = good / all; null when there were no requests. */
export function availability(counts: OutcomeCounts, degradedCountsAsGood: boolean): number | null {
  const all = totalOf(counts);
  return all === 0 ? null : goodOf(counts, degradedCountsAsGood) / all;
}

/** Intended-time latency of row i: from when it was meant to be sent until its outcome. */
export const intendedLatency = (c: RequestColumns, i: number): number => c.end[i] - c.intended[i];

/** Service time of row i: from actual send until its outcome; NaN if it was never sent. */
export const serviceLatency = (c: RequestColumns, i: number): number => c.end[i] - c.sent[i];

/** First row whose intended time is >= t (rows are in intended order). */
export function lowerBound(c: RequestColumns, t: number): number {
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c.intended[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Throws when rows are not in intended order (binary searches below rely on it). */
export function assertIntendedOrder(c: RequestColumns): void {
  for (let i = 1; i < c.length; i++) {
    if (c.intended[i] < c.intended[i - 1]) {
      throw new RangeError(
        `request rows must be in intended-time order; row ${i} is earlier than row ${i - 1}`,
      );
    }
  }
}
