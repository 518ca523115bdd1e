import type { RequestColumns } from "./columns.js";
import { errorBudget } from "./budget.js";
import type { FaultAnalysis, FaultWindow } from "./faults.js";
import { availability, countRows } from "./outcomes.js";
import {
  finalAttemptCounts,
  retrySuccess,
  summarizeRetries,
  type RetryLog,
  type RetrySummary,
} from "./retries.js";
import { latencyOf, phaseRows, type Phase, type PhaseBounds } from "./phases.js";
import type { PercentileSummary } from "./percentiles.js";
import type { OutcomeCounts } from "../../common/outcome.js";
import { downtimeByKind, projectMonthly, type MonthlyProjection } from "./projection.js";
import { degradedGoodAt, sloLevel, type JudgedLevel } from "./levels.js";
import { judge, type SloVerdict } from "./verdict.js";
import { uptime, windowStats } from "./windows.js";
import { alertVerdicts, type AlertArrival } from "./alerts.js";

/**
 * SLOs as the scenario states them (harness/scenario/schema.ts `slos`, after parsing: durations
 * in ms). Each is evaluated with its own settings (window, threshold, how degraded counts).
 */
export type SloSpec =
  | {
      readonly kind: "availability";
      readonly id?: string;
      readonly min: number;
      readonly level?: JudgedLevel;
      /** Older synonym of `level` (true = answered, false = full). */
      readonly degradedCountsAsGood?: boolean;
      /** "final": a shed request retried at its Retry-After counts by its retry. Default "each". */
      readonly attempts?: "each" | "final";
    }
  | {
      readonly kind: "uptime";
      readonly id?: string;
      readonly min: number;
      readonly window?: number;
      readonly threshold?: number;
      readonly level?: JudgedLevel;
      readonly degradedCountsAsGood?: boolean;
    }
  | {
      readonly kind: "latency";
      readonly id?: string;
      readonly percentile: 50 | 95 | 99;
      readonly max: number;
      readonly from?: "intended" | "service";
      readonly phase?: "all" | "before" | "during" | "after";
    }
  | { readonly kind: "time-to-detect"; readonly id?: string; readonly max: number; readonly fault?: string }
  | {
      readonly kind: "time-to-recover";
      readonly id?: string;
      readonly max: number;
      readonly fault?: string;
      /** answered: time to answer again; full (default): time to full service. */
      readonly level?: JudgedLevel;
    }
  | {
      readonly kind: "error-budget-burn";
      readonly id?: string;
      readonly target: number;
      readonly max: number;
    }
  | {
      readonly kind: "projected-monthly-availability";
      readonly id?: string;
      readonly min: number;
      readonly frequency: Readonly<Record<string, number>>;
      readonly months?: number;
    }
  | {
      readonly kind: "alert";
      readonly id?: string;
      readonly alert?: string;
      readonly fires?: boolean;
      readonly within?: number;
      readonly resolvesWithin?: number;
      readonly fault?: string;
    }
  | {
      readonly kind: "retry-after";
      readonly id?: string;
      readonly min: number;
      readonly degradedCountsAsGood?: boolean;
      readonly minRetries?: number;
    };

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
  /** The fault windows `faults` was computed from, same order (alert SLOs need their starts). */
  readonly faultWindows?: readonly FaultWindow[];
}

export interface SloEvaluation {
  readonly verdicts: SloVerdict[];
  /** Projections computed for projected-monthly-availability SLOs, in SLO order. */
  readonly projections: MonthlyProjection[];
}

const levelName = (l: JudgedLevel): string => (l === "full" ? "full service" : "answered");

const pct = (r: number): string => `${+(r * 100).toFixed(4)}%`;

export function evaluateSlos(specs: readonly SloSpec[], context: SloContext): SloEvaluation {
  const ctx = { ...context, data: context.data ?? dataOf(context) };
  const verdicts: SloVerdict[] = [];
  const projections: MonthlyProjection[] = [];
  specs.forEach((spec, index) => {
    const id = spec.id ?? `${spec.kind}-${index + 1}`;
    if (spec.kind === "time-to-detect" || spec.kind === "time-to-recover") {
      verdicts.push(...faultVerdicts(spec, id, ctx.faults));
    } else if (spec.kind === "alert") {
      verdicts.push(...alertVerdicts(spec, id, ctx.faultWindows ?? [], ctx.faults, ctx.alerts ?? []));
    } else if (spec.kind === "projected-monthly-availability") {
      const p = projectionFor(spec, ctx);
      projections.push(p);
      verdicts.push(
        judge(
          {
            id,
            description: `projected monthly availability >= ${pct(spec.min)} (mean over ${p.months} months)`,
            metric: "projection.meanAvailability",
            comparator: ">=",
            bound: spec.min,
            unit: "ratio",
          },
          p.meanAvailability,
        ),
      );
    } else {
      verdicts.push(simpleVerdict(spec, id, ctx));
    }
  });
  return { verdicts, projections };
}

function dataOf(ctx: SloContext): SloData {
  if (ctx.columns === undefined) throw new Error("evaluateSlos needs columns or data");
  return columnsSloData(ctx.columns, ctx.durationMs, ctx.phases, ctx.retries ?? null);
}

type Ctx = SloContext & { readonly data: SloData };

type SimpleSpec = Extract<
  SloSpec,
  { kind: "availability" | "uptime" | "latency" | "error-budget-burn" | "retry-after" }
>;

function simpleVerdict(spec: SimpleSpec, id: string, ctx: Ctx): SloVerdict {
  switch (spec.kind) {
    case "availability":
      return availabilityVerdict(spec, id, ctx);
    case "uptime": {
      const windowMs = spec.window ?? 1000;
      const threshold = spec.threshold ?? 0.99;
      const up = ctx.data.uptime(windowMs, threshold, degradedGoodAt(sloLevel(spec)));
      const d = `uptime (${levelName(sloLevel(spec))}) >= ${pct(spec.min)} (${windowMs} ms windows, up when good ratio >= ${pct(threshold)})`;
      return judge(
        { id, description: d, metric: "uptime", comparator: ">=", bound: spec.min, unit: "ratio" },
        up,
      );
    }
    case "latency":
      return latencyVerdict(spec, id, ctx);
    case "retry-after":
      return retryAfterVerdict(spec, id, ctx);
    case "error-budget-burn": {
      const b = errorBudget(ctx.data.counts(), spec.target, true);
      const d = `error-budget burn <= ${spec.max} (budget at ${pct(spec.target)})`;
      return judge(
        { id, description: d, metric: "errorBudget.burn", comparator: "<=", bound: spec.max, unit: "ratio" },
        b.burn ?? (b.badRequests === 0 ? 0 : null),
      );
    }
    default: {
      const never: never = spec;
      return never;
    }
  }
}

function availabilityVerdict(
  spec: Extract<SloSpec, { kind: "availability" }>,
  id: string,
  ctx: Ctx,
): SloVerdict {
  const level = sloLevel(spec);
  const dg = degradedGoodAt(level);
  const final = spec.attempts === "final";
  const d = `availability (${levelName(level)}) >= ${pct(spec.min)}${final ? " (each request by its final attempt)" : ""}`;
  const counts = final ? ctx.data.finalCounts() : ctx.data.counts();
  return judge(
    { id, description: d, metric: "availability", comparator: ">=", bound: spec.min, unit: "ratio" },
    availability(counts, dg),
  );
}

function retryAfterVerdict(
  spec: Extract<SloSpec, { kind: "retry-after" }>,
  id: string,
  ctx: Ctx,
): SloVerdict {
  const minRetries = spec.minRetries ?? 1;
  const log = ctx.retries ?? { links: [], withoutRetryAfter: 0, unsent: 0 };
  const r = retrySuccess(ctx.data.retrySummary(log), spec.degradedCountsAsGood ?? true);
  const few = r.attempts < minRetries;
  const d = `retries at Retry-After answered good >= ${pct(spec.min)} (${r.good} of ${r.attempts}${few ? `; needs at least ${minRetries}, so Retry-After was not exercised` : ""})`;
  return judge(
    { id, description: d, metric: "retries.goodRatio", comparator: ">=", bound: spec.min, unit: "ratio" },
    few ? null : r.ratio,
  );
}

function latencyVerdict(spec: Extract<SloSpec, { kind: "latency" }>, id: string, ctx: Ctx): SloVerdict {
  const from = spec.from ?? "intended";
  const phase = spec.phase ?? "all";
  const s = ctx.data.latency(from, phase);
  const measured = spec.percentile === 50 ? s.p50 : spec.percentile === 95 ? s.p95 : s.p99;
  const d = `P${spec.percentile} latency (${from === "intended" ? "from intended send" : "service time"}, ${phase}) <= ${spec.max} ms`;
  return judge(
    {
      id,
      description: d,
      metric: `latency.${from}.${phase}.p${spec.percentile}`,
      comparator: "<=",
      bound: spec.max,
      unit: "ms",
    },
    measured,
  );
}

function faultVerdicts(
  spec: Extract<SloSpec, { kind: "time-to-detect" | "time-to-recover" }>,
  id: string,
  faults: readonly FaultAnalysis[],
): SloVerdict[] {
  const chosen = spec.fault === undefined ? faults : faults.filter((f) => f.id === spec.fault);
  const detect = spec.kind === "time-to-detect";
  const level = spec.kind === "time-to-recover" ? sloLevel(spec) : null;
  const what = detect
    ? "time to detect"
    : level === "answered"
      ? "time to answer again"
      : "time to full service";
  const metric = detect
    ? "timeToDetectMs"
    : level === "answered"
      ? "timeToAnswerAgainMs"
      : "timeToFullServiceMs";
  const measured = (f: FaultAnalysis): number | null =>
    detect ? f.timeToDetectMs : level === "answered" ? f.timeToAnswerAgainMs : f.timeToFullServiceMs;
  if (chosen.length === 0) {
    const d = `${what} <= ${spec.max} ms: no such fault ${spec.fault ?? "in this run"}`;
    return [
      judge(
        {
          id,
          description: d,
          metric,
          comparator: "<=",
          bound: spec.max,
          unit: "ms",
        },
        null,
      ),
    ];
  }
  return chosen.map((f) =>
    judge(
      {
        id: chosen.length > 1 ? `${id}/${f.id}` : id,
        description: `${what} ${f.id} <= ${spec.max} ms${detect && f.detectNote ? ` (${f.detectNote})` : ""}`,
        metric,
        comparator: "<=",
        bound: spec.max,
        unit: "ms",
        faultId: f.id,
      },
      measured(f),
    ),
  );
}

/** Kinds given a frequency but not measured in this run contribute no downtime (stated in the inputs). */
function projectionFor(
  spec: Extract<SloSpec, { kind: "projected-monthly-availability" }>,
  ctx: SloContext,
): MonthlyProjection {
  const measured = downtimeByKind(ctx.faults);
  const inputs = Object.entries(spec.frequency)
    .filter(([kind]) => measured.has(kind))
    .map(([kind, perMonth]) => ({ kind, perMonth, downtimeMs: measured.get(kind) as number }));
  return projectMonthly(inputs, spec.min, spec.months ?? 10_000, ctx.seed);
}
