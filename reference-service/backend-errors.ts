/**
 * Errors a ModelBackend throws. `retryable` drives the retry policy and the `x-should-retry`
 * header; `countsForBreaker` whether the circuit breaker counts it as a backend failure.
 * One function in the API maps these to HTTP status and the OpenAI error envelope.
 */
export abstract class BackendError extends Error {
  abstract readonly code: string;
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
