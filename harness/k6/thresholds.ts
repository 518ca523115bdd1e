import type { SloSpec } from "../scenario/schema.js";
import { sloLevel } from "../sla/levels.js";

/**
 * SLOs as k6 thresholds. k6 evaluates thresholds over the whole test on its own metrics, so
 * only SLOs that are a bound on a whole-run rate or percentile map; the rest are listed as
 * skipped with the reason (faultline evaluates them when it drives k6 itself).
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
 */
export interface ThresholdMapping {
  /** metric name -> threshold expressions, in SLO order. */
  readonly thresholds: Readonly<Record<string, readonly string[]>>;
  /** One line per SLO that was not mapped, or mapped with a changed meaning. */
  readonly notes: readonly string[];
}

/** The script's Rate metric of full-quality answers (ok, not degraded), per request. */
export const FULL_RATE_METRIC = "faultline_full";

/** Prints a ratio without float noise: 1 - 0.999 is 0.0010000000000000009 in binary. */
export function formatRatio(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function sloName(slo: SloSpec, index: number): string {
  return slo.id ?? `slos[${index}] (${slo.kind})`;
}

type Entry = { readonly metric: string; readonly expression: string } | { readonly note: string };

function mapOne(slo: SloSpec, name: string): readonly Entry[] {
  switch (slo.kind) {
    case "availability": {
      const entry =
        sloLevel(slo) === "answered"
          ? { metric: "http_req_failed", expression: `rate<=${formatRatio(1 - slo.min)}` }
          : { metric: FULL_RATE_METRIC, expression: `rate>=${formatRatio(slo.min)}` };
      return slo.attempts === "final"
        ? [entry, { note: `${name}: counts every attempt in k6, not each request by its final attempt` }]
        : [entry];
    }
    case "latency": {
      if (slo.phase !== "all")
        return [
          { note: `${name}: latency in phase "${slo.phase}" skipped (k6 cannot split at fault instants)` },
        ];
      const entry = { metric: "http_req_duration", expression: `p(${slo.percentile})<=${slo.max}` };
      return slo.from === "intended"
        ? [
            entry,
            { note: `${name}: P${slo.percentile} measured by k6 from the actual send, not the intended one` },
          ]
        : [entry];
    }
    case "error-budget-burn":
      return [{ metric: "http_req_failed", expression: `rate<=${formatRatio(slo.max * (1 - slo.target))}` }];
    case "uptime":
    case "time-to-detect":
    case "time-to-recover":
    case "projected-monthly-availability":
      return [{ note: `${name}: ${slo.kind} skipped (needs fault windows; faultline evaluates it)` }];
    case "retry-after":
      return [{ note: `${name}: retry-after skipped (the exported script does not retry shed answers)` }];
    case "alert":
      return [{ note: `${name}: alert skipped (faultline's alert receiver judges it)` }];
    default: {
      const never: never = slo;
      return never;
    }
  }
}

export function mapSlosToThresholds(slos: readonly SloSpec[]): ThresholdMapping {
  const thresholds: Record<string, string[]> = {};
  const notes: string[] = [];
  slos.forEach((slo, i) => {
    for (const e of mapOne(slo, sloName(slo, i))) {
      if ("note" in e) notes.push(e.note);
      else (thresholds[e.metric] ??= []).push(e.expression);
    }
  });
  return { thresholds, notes };
}
