/**
 * The open-model load generator. execution.ts runs one plan (startLoad) and only wires the
 * parts: plan.ts (arrival times), arrival-merge.ts (arrivals and Retry-After retries in
 * intended order), in-flight-gate.ts (the cap and its FIFO), attempt.ts (one request in
 * undici) with deadline-watch.ts, connections.ts (undici's pool, with the hand-over of a
 * freed connection), dispatch-table.ts (templates prepared once), stream-cutter.ts
 * (client-disconnect), warm-up.ts, request-log.ts (the rows), result.ts.
 */
export { classifyFailure, classifyResponse, type ResponseFacts } from "./classify.js";
export { LiveStats, type LiveLatency, type SecondCounts } from "./live-stats.js";
export {
  ArrivalSchedule,
  compileLoadPlan,
  intendedTimes,
  templatePicker,
  type LoadPlan,
  type LoadPlanInput,
  type RateSegment,
  type StageInput,
} from "./plan.js";
export {
  deriveRandom,
  exponential,
  mulberry32,
  poisson,
  weightedPicker,
  type Random,
} from "../../common/random.js";
export { BYTES_PER_REQUEST, PENDING_OUTCOME, RequestLog } from "./request-log.js";
export {
  runLoad,
  sendStats,
  startLoad,
  type LoadHandle,
  type LoadOptions,
  type LoadResult,
  type LoadSnapshot,
  type RetryLink,
  type RetryLog,
} from "./execution.js";
export { SseChecker } from "./sse.js";
export {
  jsonLevel,
  levelMarking,
  DEFAULT_MARKING,
  type LevelMarking,
  type LevelMarkingSpec,
} from "./levels.js";
export { DEFAULT_MODEL, prepareRequest, type PreparedRequest, type RequestTemplate } from "./templates.js";
