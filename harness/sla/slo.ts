import type { RequestColumns } from "./columns.js";
import type { FaultAnalysis, FaultWindow } from "./faults.js";
import { sloKind, type SloSpec } from "./kinds/index.js";
import { countRows } from "./outcomes.js";
import { finalAttemptCounts, summarizeRetries, type RetryLog, type RetrySummary } from "./retries.js";
import { latencyOf, phaseRows, type Phase, type PhaseBounds } from "./phases.js";
import type { PercentileSummary } from "./percentiles.js";
import type { OutcomeCounts } from "../../common/outcome.js";
import type { MonthlyProjection } from "./projection.js";
import type { SloVerdict } from "./verdict.js";
import { uptime, windowStats } from "./windows.js";
import type { AlertArrival } from "./alerts.js";
import type { NotificationArrival } from "./notifications.js";

/** SLOs as the scenario states them: one kind per file in kinds/, listed in SLO_KINDS. */
export type { SloSpec } from "./kinds/index.js";

/**
 * The aggregates SLO verdicts are computed from. From columns in memory they are computed on
 * demand (`columnsSloData`); the streaming engine (stream-analyze.ts) computes them in its
 * passes over a requests file and hands them in, so verdicts never need every row at once.
 */
export interface SloData {
  /** Outcome counts of every row. */
  counts(): OutcomeCounts;
  /** Outcome counts with retried shed rows left out (`finalAttemptCounts`). */
  finalCounts(): OutcomeCounts;
  uptime(windowMs: number, threshold: number, degradedCountsAsGood: boolean): number | null;
  latency(from: "intended" | "service", phase: Phase | "all"): PercentileSummary;
  retrySummary(log: RetryLog): RetrySummary;
}

export function columnsSloData(
  c: RequestColumns,
  durationMs: number,
  phases: PhaseBounds,
  retries: RetryLog | null,
): SloData {
  return {
    counts: () => countRows(c),
    finalCounts: () => finalAttemptCounts(c, retries),
    uptime: (windowMs, threshold, degradedCountsAsGood) =>
      uptime(windowStats(c, { durationMs, windowMs, threshold, degradedCountsAsGood })),
    latency: (from, phase) => {
      const [lo, hi] = phaseRows(c, phases, phase);
      return latencyOf(c, lo, hi, from);
    },
    retrySummary: (log) => summarizeRetries(c, log),
  };
}

export interface SloContext {
  /** The rows, when in memory; else `data`. */
  readonly columns?: RequestColumns;
  /** Precomputed aggregates (the streaming engine); wins over `columns`. */
  readonly data?: SloData;
  readonly durationMs: number;
  readonly phases: PhaseBounds;
  readonly faults: readonly FaultAnalysis[];
  readonly seed: number;
  /** Retries the load sent at shed answers' Retry-After; absent or null when it sent none. */
  readonly retries?: RetryLog | null;
  /** Alerts the run's receiver recorded, in arrival order (alert SLOs). */
  readonly alerts?: readonly AlertArrival[];
  /** Messages received on subscribed WebSockets, in arrival order (notification-latency SLOs). */
  readonly notifications?: readonly NotificationArrival[];
  /** The fault windows `faults` was computed from, same order (alert and notification SLOs need their starts). */
  readonly faultWindows?: readonly FaultWindow[];
}

export interface SloEvaluation {
  readonly verdicts: SloVerdict[];
  /** Projections computed for projected-monthly-availability SLOs, in SLO order. */
  readonly projections: MonthlyProjection[];
}

export function evaluateSlos(specs: readonly SloSpec[], context: SloContext): SloEvaluation {
  const ctx = { ...context, data: context.data ?? dataOf(context) };
  const verdicts: SloVerdict[] = [];
  const projections: MonthlyProjection[] = [];
  specs.forEach((spec, index) => {
    const id = spec.id ?? `${spec.kind}-${index + 1}`;
    const result = sloKind(spec).evaluate(spec, id, ctx);
    verdicts.push(...result.verdicts);
    if (result.projection !== undefined) projections.push(result.projection);
  });
  return { verdicts, projections };
}

function dataOf(ctx: SloContext): SloData {
  if (ctx.columns === undefined) throw new Error("evaluateSlos needs columns or data");
  return columnsSloData(ctx.columns, ctx.durationMs, ctx.phases, ctx.retries ?? null);
}
