/**
 * The reference service's names in one place: its state directory layout, headers, routes and
 * metrics. The routes, retry header, service-level marker and breaker gauge implement the
 * harness's target protocol (harness/targets/protocol.ts), which the harness owns; this service
 * keeps its own copy rather than import the harness, and test/harness/targets/protocol.test.ts
 * fails when the copies disagree. Inside the harness only the reference target adapter
 * (harness/targets/reference/) imports this file.
 *
 * Layout of the service's state directory (`--state-dir DIR`, default `.faultline/reference`):
 *   DIR/api.pid                 pid of the API process (written at listen, removed at clean exit)
 *   DIR/worker.pid              pid of the current model worker (rewritten on every restart)
 *   DIR/ready.json              {"url": "http://127.0.0.1:PORT", "pid": N} once listening
 *   DIR/spool/requests/         request frames, API -> worker (atomic rename)
 *   DIR/spool/responses/        response frames, worker -> API
 *   DIR/spool/quarantine/       frames that failed validation, kept for inspection
 *   DIR/spool/tmp/requests/     temp files of frames being written (then renamed into
 *   DIR/spool/tmp/responses/    spool/requests or spool/responses); the readers do not watch them
 *   DIR/spool/heartbeat.json    worker heartbeat/status, rewritten every HEARTBEAT_INTERVAL_MS
 *   DIR/gpu/cotenants/*.json    external VRAM reservations the simulated device sees, each
 *                               {"bytes": N, "owner": "...", "createdAt": ISO}. The device is
 *                               shared state outside the worker, as a real GPU is: another
 *                               tenant (or the harness's GPU-OOM fault) reserves memory by
 *                               creating a file and releases it by deleting the file.
 */
export const STATE_FILES = {
  apiPid: "api.pid",
  workerPid: "worker.pid",
  ready: "ready.json",
  spoolDir: "spool",
  spoolRequests: "spool/requests",
  spoolResponses: "spool/responses",
  spoolQuarantine: "spool/quarantine",
  heartbeat: "spool/heartbeat.json",
  gpuCotenants: "gpu/cotenants",
} as const;

export const DEFAULT_STATE_DIR = ".faultline/reference";

/** Marks an answer served by a fallback: value is the service level (`degraded` | `minimal`). */
export const SERVICE_LEVEL_HEADER = "x-faultline-service-level";

/**
 * OpenAI's SDKs number their attempts in this header (0 for the first); 1 or more marks a
 * retry. The service lets a retry redeem the place its Retry-After promised; faultline's load
 * generator marks its Retry-After retries the same way.
 */
export const RETRY_COUNT_HEADER = "x-stainless-retry-count";
/** Which fallback served it (e.g. `cache`, `cpu-model`, `static`). */
export const FALLBACK_HEADER = "x-faultline-fallback";
/**
 * Body field on JSON answers: {"service_level": "...", "fallback": "..."}; absent on full answers.
 * Streams carry the same field on each chunk a fallback produced. A stream whose backend failed
 * mid-answer is continued in the same response (same id): if a fallback served the continuation,
 * the chunks from that point on carry the field although the headers said nothing (they were
 * sent before the failure).
 */
export const SERVICE_LEVEL_BODY_FIELD = "faultline";

export const SERVICE_LEVELS = ["full", "degraded", "minimal", "unavailable"] as const;
export type ServiceLevel = (typeof SERVICE_LEVELS)[number];

export const ROUTES = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  models: "/v1/models",
  live: "/health/live",
  ready: "/health/ready",
  health: "/health",
  metrics: "/metrics",
  /** Reliability status (breakers, retries, worker, admission, fallbacks): read-only, open. */
  reliability: "/v1/reliability",
  /** Closes every breaker (`/v1/reliability/breakers/{name}/reset`: one). Needs the admin token. */
  breakersReset: "/v1/reliability/breakers/reset",
  /** Runs a recovery ladder now for a probe request (body {failure_type, model?}). Admin token. */
  recoveryTrigger: "/v1/reliability/recovery/trigger",
  /** Ends the ladders' cooldowns and closes every breaker. Admin token. */
  recoveryReset: "/v1/reliability/recovery/reset",
  /** Pending, firing and recently resolved alerts with the rules (read-only, open). */
  alerts: "/v1/reliability/alerts",
} as const;

/**
 * The state-changing endpoints (model load/unload, breaker reset) want
 * `Authorization: Bearer <token>` when the service has an admin token (config `adminToken`,
 * env ADMIN_TOKEN_ENV below); the harness generates one per run for the targets it starts.
 */
export const ADMIN_TOKEN_ENV = "FAULTLINE_ADMIN_TOKEN";

/**
 * Set by whoever starts the API process to its own pid: when that process is gone (the API has
 * been reparented), the API drains and exits, taking its worker with it. Node has no
 * parent-death signal, so a SIGKILLed harness would otherwise leave the service running.
 */
export const EXIT_WITH_PARENT_ENV = "FAULTLINE_EXIT_WITH_PARENT";

/** Metric names the harness scrapes (vLLM names where vLLM has the concept). */
export const METRICS = {
  breakerState: "faultline_breaker_state", // {backend}: 0 closed, 1 open, 2 half_open
  breakerTransitions: "faultline_breaker_transitions_total", // {backend,from,to}
  fallbacks: "faultline_fallback_total", // {from,to,reason}
  recoveryLadderSteps: "faultline_recovery_ladder_steps_total", // {ladder,step,outcome}
  rejections: "faultline_rejections_total", // {code,reason}
  workerRestarts: "faultline_worker_restarts_total", // {cause}
  workerUp: "faultline_worker_up",
  ipcFramesCorrupt: "faultline_ipc_frames_corrupt_total", // {kind}
  vramUsed: "faultline_gpu_memory_used_bytes",
  vramTotal: "faultline_gpu_memory_total_bytes",
  modelState: "faultline_model_state", // {model,state}
  gpuModelsResident: "faultline_gpu_models_resident",
  gpuModelsResidentMax: "faultline_gpu_models_resident_max",
  modelLoadRetries: "faultline_model_load_retries_total", // {model,outcome}: loaded | failed
  modelLoadRetryWait: "faultline_model_load_retry_wait_seconds", // {model}
  modelDownloadAttempts: "faultline_model_download_attempts_total", // {model,outcome}: ok | failed
  modelDownloads: "faultline_model_downloads_total", // {model,outcome}: downloaded | failed (a run of attempts)
  modelDownloadRetryWait: "faultline_model_download_retry_wait_seconds", // {model,attempt}
  drainInflight: "faultline_drain_inflight",
  requestsLost: "faultline_requests_lost_total",
  streamResumes: "faultline_stream_resumes_total", // {outcome}: completed | failed | not_attempted
  healthCheckSuccessRatio: "faultline_health_check_success_ratio", // {window}
  alerts: "faultline_alerts", // {alertname,severity,alertstate}: 1 while pending or firing
  hostCpuUtilization: "faultline_host_cpu_utilization_ratio",
  hostMemoryUsed: "faultline_host_memory_used_ratio",
  requestsRunning: "vllm:num_requests_running",
  requestsWaiting: "vllm:num_requests_waiting",
} as const;

/** faultline_breaker_state values. */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2 } as const;
