import { BREAKER_STATE_VALUE, METRICS } from "../../reference-service/contract.js";
import { OUTCOME_CODE } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import {
  downtimeIntervals,
  overlapMs,
  recoveryPoint,
  type HealthIndex,
  type Interval,
  type RecoveryOptions,
} from "./health.js";
import { goodCodes, lowerBound } from "./outcomes.js";

/** A fault as planned and carried out, in ms from the start of the load run. */
export interface FaultWindow {
  readonly id: string;
  readonly kind: string;
  readonly startMs: number;
  /** null for an instant fault (a kill): recovery is then counted from the start. */
  readonly endMs: number | null;
}

/** One scrape of the target's metrics: series key (as exposed) -> value. */
export interface MetricSample {
  readonly tMs: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface FaultAnalysis {
  readonly id: string;
  readonly kind: string;
  readonly timeToDetectMs: number | null;
  /** How the fault was first noticed: a degraded/shed answer or the breaker metric. */
  readonly detectedBy: "answer" | "breaker" | null;
  readonly recoveryPointMs: number | null;
  readonly timeToRecoverMs: number | null;
  /** Requests intended from fault start until recovery (or run end when never recovered). */
  readonly requests: { readonly total: number; readonly failed: number; readonly degraded: number };
  /** Downtime inside [start, recovery point or run end): the measured cost of one occurrence. */
  readonly downtimeMs: number;
}

/**
 * Time to detect: fault start until the service first signals it: the earliest answer
 * classified degraded or shed that arrived at or after the start, or the earliest scrape at or
 * after the start in which a `faultline_breaker_state{...}` series reads open (1). Failures the
 * service does not signal (refused connections, timeouts) do not count as detection.
 */
export function timeToDetect(
  c: RequestColumns,
  samples: readonly MetricSample[],
  startMs: number,
): { ms: number | null; by: "answer" | "breaker" | null } {
  let answer = Number.POSITIVE_INFINITY;
  for (let i = 0; i < c.length; i++) {
    const code = c.outcome[i];
    if (code !== OUTCOME_CODE.degraded && code !== OUTCOME_CODE.shed) continue;
    const end = c.end[i];
    if (end >= startMs && end < answer) answer = end;
  }
  let breaker = Number.POSITIVE_INFINITY;
  for (const s of samples) {
    if (s.tMs >= startMs && s.tMs < breaker && breakerOpen(s)) breaker = s.tMs;
  }
  if (answer === Number.POSITIVE_INFINITY && breaker === Number.POSITIVE_INFINITY)
    return { ms: null, by: null };
  return answer <= breaker
    ? { ms: answer - startMs, by: "answer" }
    : { ms: breaker - startMs, by: "breaker" };
}

function breakerOpen(s: MetricSample): boolean {
  for (const [key, value] of Object.entries(s.values)) {
    const isBreaker = key === METRICS.breakerState || key.startsWith(`${METRICS.breakerState}{`);
    if (isBreaker && value === BREAKER_STATE_VALUE.open) return true;
  }
  return false;
}

export interface FaultAnalysisOptions extends RecoveryOptions {
  readonly degradedCountsAsGood: boolean;
}

export function analyzeFaults(
  h: HealthIndex,
  faults: readonly FaultWindow[],
  samples: readonly MetricSample[],
  o: FaultAnalysisOptions,
): { faults: FaultAnalysis[]; downtime: Interval[] } {
  const c = h.columns;
  const downtime = downtimeIntervals(h, o.durationMs);
  const good = goodCodes(o.degradedCountsAsGood);
  const out = faults.map((f): FaultAnalysis => {
    const from = f.endMs ?? f.startMs;
    const point = recoveryPoint(h, from, o);
    const until = point ?? o.durationMs;
    const detect = timeToDetect(c, samples, f.startMs);
    const lo = lowerBound(c, f.startMs);
    const hi = Math.max(lo, lowerBound(c, until));
    let failed = 0;
    let degraded = 0;
    for (let i = lo; i < hi; i++) {
      const code = c.outcome[i];
      if (code === OUTCOME_CODE.degraded) degraded++;
      else if (!good[code]) failed++;
    }
    return {
      id: f.id,
      kind: f.kind,
      timeToDetectMs: detect.ms,
      detectedBy: detect.by,
      recoveryPointMs: point,
      timeToRecoverMs: point === null ? null : Math.max(0, point - from),
      requests: { total: hi - lo, failed, degraded },
      downtimeMs: overlapMs(downtime, f.startMs, until),
    };
  });
  return { faults: out, downtime };
}
