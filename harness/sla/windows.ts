import type { OutcomeCounts } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import { availability, countRows, intendedLatency, lowerBound } from "./outcomes.js";
import { summarize, type PercentileSummary } from "./percentiles.js";

export interface WindowOptions {
  /** Length of the measured run (ms); windows tile [0, durationMs). */
  readonly durationMs: number;
  readonly windowMs: number;
  /** A window is up when its good ratio is >= threshold. */
  readonly threshold: number;
  readonly degradedCountsAsGood: boolean;
}

export interface Window {
  readonly startMs: number;
  readonly counts: OutcomeCounts;
  readonly goodRatio: number | null;
  readonly latency: PercentileSummary;
  readonly up: boolean;
}

/**
 * Fixed windows [k*W, (k+1)*W) over the run, requests assigned by intended send time (so a
 * stall is charged to when users arrived, not to when the answers finally came). The last
 * window may be shorter. A window without requests counts as up: an open-model generator
 * sends into every window the plan gives a rate, so an empty window only comes from a plan
 * with zero rate there, and that says nothing against the service.
 */
export function windowStats(c: RequestColumns, o: WindowOptions): Window[] {
  if (!(o.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${o.windowMs}`);
  const n = Math.ceil(o.durationMs / o.windowMs);
  const out: Window[] = [];
  for (let k = 0; k < n; k++) {
    const startMs = k * o.windowMs;
    const from = lowerBound(c, startMs);
    // Rows past the planned end (should not exist) fall into the last window.
    const to = k === n - 1 ? c.length : lowerBound(c, startMs + o.windowMs);
    const counts = countRows(c, from, to);
    const goodRatio = availability(counts, o.degradedCountsAsGood);
    const lat = new Float64Array(to - from);
    for (let i = from; i < to; i++) lat[i - from] = intendedLatency(c, i);
    out.push({
      startMs,
      counts,
      goodRatio,
      latency: summarize(lat),
      up: goodRatio === null || goodRatio >= o.threshold,
    });
  }
  return out;
}

/** Time-based uptime = up windows / all windows; null for a run without windows. */
export function uptime(windows: readonly Window[]): number | null {
  if (windows.length === 0) return null;
  return windows.filter((w) => w.up).length / windows.length;
}
