/**
 * Errors a ModelBackend throws. `code` is the error's name on the wire (the worker sends it,
 * ipc/error-codes.ts) and the key of its HTTP answer (api/errors.ts); `retryable` drives the
 * retry policy; `countsForBreaker` whether the circuit breaker counts it as a backend failure.
 */
export type BackendErrorCode =
  | "worker_unavailable"
  | "ipc_corrupt_frame"
  | "gpu_out_of_memory"
  | "model_load_failed"
  | "model_download_failed"
  | "model_not_found"
  | "backend_timeout";

export abstract class BackendError extends Error {
  abstract readonly code: BackendErrorCode;
  abstract readonly retryable: boolean;
  abstract readonly countsForBreaker: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Worker down, restarting, not ready, or its heartbeat is stale. */
export class WorkerUnavailableError extends BackendError {
  readonly code = "worker_unavailable";
  readonly retryable = true;
  readonly countsForBreaker = true;
}

/** A frame for this request failed validation (corrupt, truncated, wrong schema, missing). */
export class CorruptFrameError extends BackendError {
  readonly code = "ipc_corrupt_frame";
  readonly retryable = true;
  readonly countsForBreaker = true;
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The simulated (or real) device could not allocate: CUDA-shaped message. */
export class GpuOutOfMemoryError extends BackendError {
  readonly code = "gpu_out_of_memory";
  readonly retryable = false;
  readonly countsForBreaker = true;
}

/** The model's weights failed verification, or loading failed for good. */
export class ModelLoadError extends BackendError {
  readonly code = "model_load_failed";
  readonly retryable = false;
  readonly countsForBreaker = true;
}

/**
 * The model's source could not be fetched (gpu/download.ts): the attempt a request waited for
 * failed, or the worker is waiting to try again. Not retried by the API (the worker has its own
 * schedule, and an immediate retry would only meet the wait); the network_error ladder's
 * retry_model_download step is the one more try. Not counted by the breaker: the worker
 * answered at once and is healthy, and one model's source being down must not cut every other
 * model off for the breaker's whole open period (60 s), as model_not_found does not.
 */
export class ModelDownloadError extends BackendError {
  readonly code = "model_download_failed";
  readonly retryable = false;
  readonly countsForBreaker = false;
}

export class ModelNotFoundError extends BackendError {
  readonly code = "model_not_found";
  readonly retryable = false;
  readonly countsForBreaker = false;
}

/** The request's deadline passed in the backend. */
export class BackendTimeoutError extends BackendError {
  readonly code = "backend_timeout";
  readonly retryable = true;
  readonly countsForBreaker = true;
}

export const isBackendError = (e: unknown): e is BackendError => e instanceof BackendError;
