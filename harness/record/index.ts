/** The run record: build, validate, write and read `runs/<id>/`. */
export {
  buildRunRecord,
  loadSection,
  validateRunRecord,
  type FaultRecordInput,
  type RunRecordInputs,
} from "./build.js";
export { collectEnvironment } from "./environment.js";
export { readRunRecord, RUN_FILE, writeRunRecord, type LoadedRun } from "./io.js";
export { decodeRequests, encodeRequests, REQUESTS_FILE, requestsFileSize } from "./requests-file.js";
export { runId, slug, uniqueRunId } from "./run-id.js";
export * from "./schema.js";
