import type { OutcomeCounts } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import type { ErrorBudget } from "./budget.js";
import type { FaultAnalysis, FaultWindow, MetricSample } from "./faults.js";
import type { Interval } from "./health.js";
import type { PercentileSummary } from "./percentiles.js";
import type { PhaseBounds } from "./phases.js";
import type { MonthlyProjection } from "./projection.js";
import type { RetryLog, RetrySummary } from "./retries.js";
import type { JudgedLevel } from "./levels.js";
import type { SloSpec } from "./slo.js";
import type { AlertArrival } from "./alerts.js";
import type { NotificationArrival } from "./notifications.js";
import type { SloVerdict } from "./verdict.js";
import type { Window } from "./windows.js";
import { columnsSource } from "./source.js";
import { analyzeSource } from "./stream-analyze.js";

export interface SlaInput {
  readonly columns: RequestColumns;
  /** Planned length of the load (ms); windows tile [0, durationMs). */
  readonly durationMs: number;
  readonly faults: readonly FaultWindow[];
  readonly metricSamples?: readonly MetricSample[];
  readonly slos?: readonly SloSpec[];
  /** Alerts received during the run (alert SLOs); none when the scenario had no receiver. */
  readonly alerts?: readonly AlertArrival[];
  /** Messages received on subscribed WebSockets (notification-latency SLOs). */
  readonly notifications?: readonly NotificationArrival[];
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

/**
 * Everything the run record needs from the per-request columns. Pure: no I/O, no clock. The
 * work is done by the streaming engine (stream-analyze.ts) over the columns as one block, so
 * a run analysed in memory and one analysed from its requests file get the same numbers.
 */
export function analyzeRun(input: SlaInput): SlaReport {
  const { columns, ...rest } = input;
  return analyzeSource({ ...rest, source: columnsSource(columns) });
}
