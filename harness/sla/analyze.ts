import type { OutcomeCounts } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import { errorBudget, type ErrorBudget } from "./budget.js";
import { analyzeFaults, type FaultAnalysis, type FaultWindow, type MetricSample } from "./faults.js";
import { HealthIndex, type Interval } from "./health.js";
import { assertIntendedOrder, availability, countRows } from "./outcomes.js";
import type { PercentileSummary } from "./percentiles.js";
import { latencyOf, phaseBounds, phaseRows, type PhaseBounds } from "./phases.js";
import type { MonthlyProjection } from "./projection.js";
import { finalAttemptCounts, summarizeRetries, type RetryLog, type RetrySummary } from "./retries.js";
import { degradedGoodAt, type JudgedLevel } from "./levels.js";
import { evaluateSlos, type SloSpec } from "./slo.js";
import type { AlertArrival } from "./alerts.js";
import type { SloVerdict } from "./verdict.js";
import { uptime, windowStats, type Window } from "./windows.js";

export interface SlaInput {
  readonly columns: RequestColumns;
  /** Planned length of the load (ms); windows tile [0, durationMs). */
  readonly durationMs: number;
  readonly faults: readonly FaultWindow[];
  readonly metricSamples?: readonly MetricSample[];
  readonly slos?: readonly SloSpec[];
  /** Alerts received during the run (alert SLOs); none when the scenario had no receiver. */
  readonly alerts?: readonly AlertArrival[];
  /** Window for uptime, recovery and the per-window series. Default 1000 ms. */
  readonly windowMs?: number;
  /** Good ratio a window needs to be up / healthy. Default 0.99. */
  readonly threshold?: number;
  /**
   * Level of the headline availability, uptime and recovery. The runner always passes the
   * first availability SLO's level (harness/runner/analysis.ts, default full); the engine's own
   * default stays true for direct callers. Both levels are in `levels` and the per-fault times
   * regardless.
   */
  readonly degradedCountsAsGood?: boolean;
  /** Healthy also requires window P95 (intended) <= this, for recovery and downtime. */
  readonly latencySloMs?: number;
  /** How long the service must stay healthy after a fault to count as recovered. Default 5000 ms. */
  readonly stabilityMs?: number;
  /** SLO for the error budget. Default 0.999. */
  readonly budgetSlo?: number;
  /** Seed for the monthly projection's Monte Carlo. */
  readonly seed: number;
  /** Retries the load sent at shed answers' Retry-After (null or absent: it sent none). */
  readonly retries?: RetryLog | null;
  /** How the headline availability counts a retried request (the availability SLO's `attempts`). */
  readonly availabilityAttempts?: "each" | "final";
}

export interface SlaReport {
  readonly totals: OutcomeCounts;
  readonly availability: {
    readonly value: number | null;
    readonly degradedCountsAsGood: boolean;
    readonly attempts: "each" | "final";
  };
  readonly uptime: { readonly value: number | null; readonly windowMs: number; readonly threshold: number };
  /**
   * Availability and uptime at both levels, always side by side (DESIGN.md "Two levels of
   * truth"): answered = any good answer, full = the primary model's answers only. Same
   * attempts rule, windows and threshold as the headline.
   */
  readonly levels: Readonly<Record<JudgedLevel, LevelFigures>>;
  readonly latency: {
    readonly intended: PercentileSummary;
    readonly service: PercentileSummary;
    readonly byPhase: {
      readonly before: PercentileSummary;
      readonly during: PercentileSummary;
      readonly after: PercentileSummary;
    };
  };
  readonly phases: PhaseBounds;
  readonly windows: readonly Window[];
  readonly downtime: readonly Interval[];
  readonly faults: readonly FaultAnalysis[];
  readonly errorBudget: ErrorBudget;
  readonly projection: MonthlyProjection | null;
  readonly slos: readonly SloVerdict[];
  /** Null unless the load honoured Retry-After. */
  readonly retries: RetrySummary | null;
}

export interface LevelFigures {
  readonly availability: number | null;
  readonly uptime: number | null;
}

/** Everything the run record needs from the per-request columns. Pure: no I/O, no clock. */
export function analyzeRun(input: SlaInput): SlaReport {
  const c = input.columns;
  assertIntendedOrder(c);
  const windowMs = input.windowMs ?? 1000;
  const threshold = input.threshold ?? 0.99;
  const dg = input.degradedCountsAsGood ?? true;
  const health = new HealthIndex(c, {
    degradedCountsAsGood: dg,
    threshold,
    latencySloMs: input.latencySloMs,
  });
  const { faults, downtime } = analyzeFaults(health, input.faults, input.metricSamples ?? [], {
    windowMs,
    stabilityMs: input.stabilityMs ?? 5000,
    durationMs: input.durationMs,
    degradedCountsAsGood: dg,
  });
  const phases = phaseBounds(
    input.faults.map((f, i) => ({ startMs: f.startMs, recoveryPointMs: faults[i]?.recoveryPointMs ?? null })),
    input.durationMs,
  );
  const totals = countRows(c);
  const windows = windowStats(c, {
    durationMs: input.durationMs,
    windowMs,
    threshold,
    degradedCountsAsGood: dg,
  });
  const byPhase = (p: "before" | "during" | "after"): PercentileSummary => {
    const [lo, hi] = phaseRows(c, phases, p);
    return latencyOf(c, lo, hi, "intended");
  };
  const evaluation = evaluateSlos(input.slos ?? [], {
    columns: c,
    durationMs: input.durationMs,
    phases,
    faults,
    seed: input.seed,
    retries: input.retries ?? null,
    alerts: input.alerts ?? [],
    faultWindows: input.faults,
  });
  const attempts = input.availabilityAttempts ?? "each";
  const counted = attempts === "final" ? finalAttemptCounts(c, input.retries ?? null) : totals;
  const atLevel = (level: JudgedLevel): LevelFigures => {
    const good = degradedGoodAt(level);
    const w = windowStats(c, {
      durationMs: input.durationMs,
      windowMs,
      threshold,
      degradedCountsAsGood: good,
    });
    return { availability: availability(counted, good), uptime: uptime(w) };
  };
  return {
    totals,
    availability: { value: availability(counted, dg), degradedCountsAsGood: dg, attempts },
    uptime: { value: uptime(windows), windowMs, threshold },
    levels: { answered: atLevel("answered"), full: atLevel("full") },
    latency: {
      intended: latencyOf(c, 0, c.length, "intended"),
      service: latencyOf(c, 0, c.length, "service"),
      byPhase: { before: byPhase("before"), during: byPhase("during"), after: byPhase("after") },
    },
    phases,
    windows,
    downtime,
    faults,
    // Counted as the headline availability is, so the two agree on what a bad request is.
    errorBudget: errorBudget(counted, input.budgetSlo ?? 0.999, dg),
    projection: evaluation.projections[0] ?? null,
    slos: evaluation.verdicts,
    retries: input.retries ? summarizeRetries(c, input.retries) : null,
  };
}
