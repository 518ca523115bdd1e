export { exportK6Script, k6Options, k6Templates, defaultBaseUrl, type K6Template } from "./export.js";
export { k6ScenarioFor, k6Duration, timeUnitFor, type K6Scenario } from "./executor.js";
export { mapSlosToThresholds, formatRatio, FULL_RATE_METRIC, type ThresholdMapping } from "./thresholds.js";
export {
  parseK6Points,
  readK6PointsFile,
  parseK6Time,
  type K6Point,
  type K6Points,
  type K6MetricInfo,
} from "./points.js";
export {
  k6RequestRows,
  K6RowCollector,
  k6Columns,
  parseK6Summary,
  outcomeFromK6,
  type K6Requests,
  type K6Summary,
  type K6ThresholdResult,
} from "./summary.js";
export {
  runK6Load,
  requireK6,
  findOnPath,
  K6_THRESHOLDS_FAILED,
  type K6RunOptions,
  type K6LoadResult,
} from "./driver.js";
