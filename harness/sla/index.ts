/** The SLA engine: pure functions from recorded outcomes to the numbers a run is judged by. */
export { analyzeRun, type SlaInput, type SlaReport } from "./analyze.js";
export { errorBudget, type ErrorBudget } from "./budget.js";
export { columnsFromRows, type RequestColumns, type RequestRow } from "./columns.js";
export {
  analyzeFaults,
  timeToDetect,
  type FaultAnalysis,
  type FaultWindow,
  type MetricSample,
} from "./faults.js";
export {
  downtimeIntervals,
  HealthIndex,
  overlapMs,
  recoveryPoint,
  type HealthOptions,
  type Interval,
  type RecoveryOptions,
} from "./health.js";
export { availability, countRows, intendedLatency, serviceLatency } from "./outcomes.js";
export { nearestRank, nearestRankIndex, summarize, type PercentileSummary } from "./percentiles.js";
export { latencyOf, phaseBounds, phaseRows, type Phase, type PhaseBounds } from "./phases.js";
export {
  downtimeByKind,
  MONTH_MS,
  projectMonthly,
  type MonthlyProjection,
  type ProjectionInput,
} from "./projection.js";
export { evaluateSlos, type SloContext, type SloEvaluation, type SloSpec } from "./slo.js";
export { SLO_KINDS, sloKind, type SloKind } from "./kinds/index.js";
export { judge, type Comparator, type SloUnit, type SloVerdict, type VerdictSpec } from "./verdict.js";
export { uptime, windowStats, type Window, type WindowOptions } from "./windows.js";
export { DEFAULT_LEVEL, degradedGoodAt, sloLevel, type JudgedLevel } from "./levels.js";
export type { LevelFigures } from "./analyze.js";
