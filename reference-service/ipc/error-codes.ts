/**
 * Errors across the process boundary: the worker sends a code, the client rebuilds the
 * matching BackendError so the API's policies see the same classes as in-process.
 */
import {
  BackendTimeoutError,
  CorruptFrameError,
  GpuOutOfMemoryError,
  ModelDownloadError,
  ModelLoadError,
  ModelNotFoundError,
  WorkerUnavailableError,
  isBackendError,
  type BackendError,
} from "../backend-errors.js";
import type { WorkerErrorCode } from "./protocol.js";

/** A backend error's own code (every BackendErrorCode is a wire code); anything else is internal. */
export function errorCodeOf(err: unknown): WorkerErrorCode {
  return isBackendError(err) ? err.code : "internal";
}

export function errorFromCode(code: WorkerErrorCode, message: string): BackendError {
  switch (code) {
    case "gpu_out_of_memory":
      return new GpuOutOfMemoryError(message);
    case "model_load_failed":
      return new ModelLoadError(message);
    case "model_download_failed":
      return new ModelDownloadError(message);
    case "model_not_found":
      return new ModelNotFoundError(message);
    case "backend_timeout":
      return new BackendTimeoutError(message);
    case "ipc_corrupt_frame":
      return new CorruptFrameError(message, "rejected-by-worker");
    case "worker_unavailable":
    case "cancelled":
    case "internal":
      // An internal worker fault is transient from the API's view: another try may succeed.
      return new WorkerUnavailableError(`worker: ${message}`);
    default: {
      const never: never = code;
      return new WorkerUnavailableError(`worker sent unknown error code ${String(never)}`);
    }
  }
}
