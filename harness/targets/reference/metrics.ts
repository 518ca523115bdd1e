import { METRICS } from "../../../reference-service/contract.js";

/**
 * Metric names only the reference service exposes, which the dashboard and the HTML report
 * show when a target has them (the breaker gauge is the protocol's: targets/protocol.ts).
 */
export const REFERENCE_METRICS = {
  workerRestarts: METRICS.workerRestarts, // counter {cause}
  workerUp: METRICS.workerUp,
  vramUsed: METRICS.vramUsed,
  vramTotal: METRICS.vramTotal,
} as const;
