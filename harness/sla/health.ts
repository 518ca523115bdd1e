import type { RequestColumns } from "./columns.js";
import { goodCodes, intendedLatency, lowerBound } from "./outcomes.js";
import { nearestRankIndex } from "./percentiles.js";

export interface HealthOptions {
  readonly degradedCountsAsGood: boolean;
  /** A stretch is healthy when its good ratio is >= this. */
  readonly threshold: number;
  /** If set, a stretch is healthy only if its intended-time P95 is <= this (ms). */
  readonly latencySloMs?: number;
}

/**
 * Answers "was the service healthy over [a, b)?" in O(log n) for any interval, from prefix
 * sums of good requests and of requests slower than the latency SLO. P95 <= L is decided
 * without sorting: with nearest rank, P95 <= L exactly when at least ceil(0.95 n) requests
 * took <= L.
 */
export class HealthIndex {
  private readonly goodPrefix: Uint32Array;
  private readonly slowPrefix: Uint32Array;

  constructor(
    readonly columns: RequestColumns,
    readonly options: HealthOptions,
  ) {
    const n = columns.length;
    const good = goodCodes(options.degradedCountsAsGood);
    const limit = options.latencySloMs ?? Number.POSITIVE_INFINITY;
    this.goodPrefix = new Uint32Array(n + 1);
    this.slowPrefix = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.goodPrefix[i + 1] = this.goodPrefix[i] + (good[columns.outcome[i]] ? 1 : 0);
      this.slowPrefix[i + 1] = this.slowPrefix[i] + (intendedLatency(columns, i) > limit ? 1 : 0);
    }
  }

  /** Whether row i on its own is good and within the latency SLO. */
  rowHealthy(i: number): boolean {
    const good = this.goodPrefix[i + 1] - this.goodPrefix[i];
    const slow = this.slowPrefix[i + 1] - this.slowPrefix[i];
    return good === 1 && slow === 0;
  }

  /** Health of the requests intended in [a, b); an interval without requests is healthy. */
  healthy(a: number, b: number): boolean {
    const lo = lowerBound(this.columns, a);
    const hi = lowerBound(this.columns, b);
    const n = hi - lo;
    if (n === 0) return true;
    const good = this.goodPrefix[hi] - this.goodPrefix[lo];
    if (good / n < this.options.threshold) return false;
    if (this.options.latencySloMs === undefined) return true;
    const fast = n - (this.slowPrefix[hi] - this.slowPrefix[lo]);
    return fast >= nearestRankIndex(n, 95);
  }
}

export interface RecoveryOptions {
  readonly windowMs: number;
  /** How long the service must stay healthy for the recovery to count. */
  readonly stabilityMs: number;
  /** End of the measured run (ms); stability must be observable before it. */
  readonly durationMs: number;
}

/**
 * The recovery point after `fromMs` (fault end, or fault start for an instant fault): the
 * intended time c of the first healthy request at or after `fromMs` such that every window
 * [c + jW, c + (j+1)W) for j < ceil(stability / W) is healthy. Windows are anchored at the
 * candidate, not on the run's grid, so the answer has the resolution of one inter-arrival gap
 * rather than of a window. A relapse inside the stability period discards the candidate and
 * the search goes on from the next healthy request: the count restarts. Returns null when no
 * candidate has a full stability period of healthy windows before the run ends.
 */
export function recoveryPoint(h: HealthIndex, fromMs: number, o: RecoveryOptions): number | null {
  const k = Math.max(1, Math.ceil(o.stabilityMs / o.windowMs - 1e-9));
  const c = h.columns;
  for (let i = lowerBound(c, fromMs); i < c.length; i++) {
    if (!h.rowHealthy(i)) continue;
    const start = c.intended[i];
    if (start + k * o.windowMs > o.durationMs + 1e-9) return null;
    let stable = true;
    for (let j = 0; j < k && stable; j++)
      stable = h.healthy(start + j * o.windowMs, start + (j + 1) * o.windowMs);
    if (stable) return start;
  }
  return null;
}

export interface Interval {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Downtime at request resolution: each maximal run of consecutive unhealthy requests (bad
 * outcome, or slower than the latency SLO) in intended order becomes [intended time of its
 * first request, intended time of the next healthy request), or up to the run's end.
 */
export function downtimeIntervals(h: HealthIndex, durationMs: number): Interval[] {
  const c = h.columns;
  const out: Interval[] = [];
  let start: number | null = null;
  for (let i = 0; i < c.length; i++) {
    const t = c.intended[i];
    const bad = !h.rowHealthy(i);
    if (bad && start === null) start = t;
    if (!bad && start !== null) {
      out.push({ startMs: start, endMs: t });
      start = null;
    }
  }
  if (start !== null) out.push({ startMs: start, endMs: Math.max(start, durationMs) });
  return out;
}

/** Total length of the parts of `intervals` inside [a, b). */
export function overlapMs(intervals: readonly Interval[], a: number, b: number): number {
  let sum = 0;
  for (const iv of intervals) sum += Math.max(0, Math.min(iv.endMs, b) - Math.max(iv.startMs, a));
  return sum;
}
