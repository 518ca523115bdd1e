export { exportK6Script, k6Options, k6Templates, defaultBaseUrl, type K6Template } from "./export.js";
export { k6ScenarioFor, k6Duration, timeUnitFor, type K6Scenario } from "./executor.js";
export { mapSlosToThresholds, formatRatio, FULL_RATE_METRIC, type ThresholdMapping } from "./thresholds.js";
