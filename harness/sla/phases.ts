import type { RequestColumns } from "./columns.js";
import { intendedLatency, lowerBound, serviceLatency } from "./outcomes.js";
import { summarize, type PercentileSummary } from "./percentiles.js";

export type Phase = "before" | "during" | "after";

export interface PhaseBounds {
  /** First fault start; the whole run when there are no faults. */
  readonly duringStartMs: number;
  /** Latest recovery point (or run end for a fault never recovered). */
  readonly duringEndMs: number;
}

/**
 * Phases by intended time: before = until the first fault starts; during = from there until
 * the last fault has recovered (recovery counts as part of the fault's impact; a fault that
 * never recovered extends "during" to the end of the run); after = the rest. Without faults
 * everything is "before".
 */
export function phaseBounds(
  faults: readonly { startMs: number; recoveryPointMs: number | null }[],
  durationMs: number,
): PhaseBounds {
  if (faults.length === 0) return { duringStartMs: durationMs, duringEndMs: durationMs };
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const f of faults) {
    start = Math.min(start, f.startMs);
    end = Math.max(end, f.recoveryPointMs ?? durationMs);
  }
  return { duringStartMs: start, duringEndMs: Math.max(start, end) };
}

/** Row range [from, to) of a phase. */
export function phaseRows(c: RequestColumns, b: PhaseBounds, phase: Phase | "all"): [number, number] {
  switch (phase) {
    case "all":
      return [0, c.length];
    case "before":
      return [0, lowerBound(c, b.duringStartMs)];
    case "during":
      return [lowerBound(c, b.duringStartMs), lowerBound(c, b.duringEndMs)];
    case "after":
      return [lowerBound(c, b.duringEndMs), c.length];
    default: {
      const never: never = phase;
      return never;
    }
  }
}

/**
 * Latency summary of rows [from, to), from the intended send time or from the actual send.
 * Every request counts, whatever its outcome: the time a user waited until they knew (a
 * timeout counts its full deadline; dropping failures would hide exactly the stalls).
 */
export function latencyOf(
  c: RequestColumns,
  from: number,
  to: number,
  base: "intended" | "service",
): PercentileSummary {
  const values = new Float64Array(Math.max(0, to - from));
  const f = base === "intended" ? intendedLatency : serviceLatency;
  for (let i = from; i < to; i++) values[i - from] = f(c, i);
  return summarize(values);
}
