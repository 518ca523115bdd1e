/** Live terminal dashboard for runs and game days (ink). */
export { attachDashboard, type AttachInput } from "./attach.js";
export { dashboardWanted } from "./wanted.js";
export { dashboardControlsFrom } from "./controls.js";
export { HealthPoller, healthFromMetrics, UNKNOWN_HEALTH, type HealthPollerOptions } from "./health.js";
export { handleKey, type Command, type KeyPress, type PickerState } from "./keys.js";
export { dashboardSourceFrom, plannedRateAt, type SourceParts, type TimelineReader } from "./source.js";
export { budgetOf, DEFAULT_SLO, sloStanding, type LiveFacts } from "./standing.js";
export {
  startDashboard,
  type DashboardHandle,
  type DashboardOptions,
  type DashboardRuntime,
} from "./start.js";
export type {
  DashboardControls,
  DashboardFrame,
  DashboardSource,
  FaultRow,
  HealthView,
  PickerKind,
  SloStanding,
} from "./types.js";
