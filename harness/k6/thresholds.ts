import { sloKind, type SloSpec } from "../sla/kinds/index.js";

/**
 * SLOs as k6 thresholds. k6 evaluates thresholds over the whole test on its own metrics, so
 * only SLOs that are a bound on a whole-run rate or percentile map; the rest are listed as
 * skipped with the reason (faultline evaluates them when it drives k6 itself). Each SLO kind
 * says how it maps (`k6Thresholds` in harness/sla/kinds/<kind>.ts):
 *
 * | SLO kind                          | k6 threshold                                             |
 * |-----------------------------------|----------------------------------------------------------|
 * | availability, degraded good       | `http_req_failed: rate<=1-min` (a degraded answer is 2xx)|
 * | availability, degraded is down    | `faultline_full: rate>=min` (script's own Rate metric)   |
 * | latency, phase all                | `http_req_duration: p(N)<=max` (from the actual send)    |
 * | error-budget-burn                 | `http_req_failed: rate<=max x (1-target)`                |
 * | uptime, time-to-detect/recover,   | none: need fault windows or per-window series            |
 * | projected-monthly-availability    |                                                          |
 * | latency, phase before/during/after| none: k6 cannot split a run at fault instants            |
 * | retry-after, alert                | none: the script sends no retries; alerts need a receiver|
 */
export interface ThresholdMapping {
  /** metric name -> threshold expressions, in SLO order. */
  readonly thresholds: Readonly<Record<string, readonly string[]>>;
  /** One line per SLO that was not mapped, or mapped with a changed meaning. */
  readonly notes: readonly string[];
}

export { FULL_RATE_METRIC, formatRatio } from "./threshold-entry.js";

function sloName(slo: SloSpec, index: number): string {
  return slo.id ?? `slos[${index}] (${slo.kind})`;
}

export function mapSlosToThresholds(slos: readonly SloSpec[]): ThresholdMapping {
  const thresholds: Record<string, string[]> = {};
  const notes: string[] = [];
  slos.forEach((slo, i) => {
    for (const e of sloKind(slo).k6Thresholds(slo, sloName(slo, i))) {
      if ("note" in e) notes.push(e.note);
      else (thresholds[e.metric] ??= []).push(e.expression);
    }
  });
  return { thresholds, notes };
}
