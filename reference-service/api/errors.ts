/**
 * The API's errors and the ONE function that maps any thrown value to an HTTP status, headers
 * and OpenAI's error envelope. Client mistakes are 4xx with the offending field as `param`;
 * overload and unavailability are 429/503 and always carry Retry-After + retry-after-ms;
 * permanent failures carry `x-should-retry: false` so the official SDK does not retry them.
 */
import { BrokenCircuitError, TaskCancelledError } from "cockatiel";
import { isBackendError, type BackendErrorCode } from "../backend-errors.js";
import { isDeadlineExceededError } from "../policies/deadline.js";
import { isStreamCommittedError } from "../policies/stream-committed-error.js";

export type OpenAiErrorType =
  | "invalid_request_error"
  | "not_found_error"
  | "rate_limit_error"
  | "service_unavailable"
  | "server_error"
  | "timeout_error";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** Set on 429/503: when a retry will get in. */
    readonly retryAfterMs?: number,
    /** Extra headers the answer needs (Allow on a 405, WWW-Authenticate on a 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

export const invalidRequest = (message: string, param: string | null = null): ApiError =>
  new ApiError(400, "invalid_request_error", "invalid_request", message, param);

/** Admission control refused: capacity (429) or unavailable/draining (503). */
export const capacityExceeded = (message: string, retryAfterMs: number): ApiError =>
  new ApiError(429, "rate_limit_error", "capacity_exceeded", message, null, retryAfterMs);

export const unavailable = (code: string, message: string, retryAfterMs: number): ApiError =>
  new ApiError(503, "service_unavailable", code, message, null, retryAfterMs);

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: {
    readonly error: { message: string; type: string; param: string | null; code: string | null };
  };
}

/** The longest Retry-After the service gives: the OpenAI SDKs ignore longer ones. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A wait as advertised: clamped to 1-60 s so the OpenAI SDK honours it. */
export const clampRetryAfterMs = (ms: number): number =>
  Math.min(MAX_RETRY_AFTER_MS, Math.max(1000, Math.ceil(ms)));

/** Retry-After in whole seconds (rounded up) and ms, clamped to 1-60 s so the OpenAI SDK honours it. */
export function retryAfterHeaders(ms: number): Record<string, string> {
  const clamped = clampRetryAfterMs(ms);
  return { "retry-after": String(Math.ceil(clamped / 1000)), "retry-after-ms": String(clamped) };
}

/**
 * What an error answer is made of. An ApiError has these fields; the mapping below passes plain
 * objects for errors it translates, so an answer never pays for a stack trace it does not show
 * (in a CPU profile of fast fails, the stack captures were their largest single cost).
 */
type ErrorFields = Pick<ApiError, "status" | "type" | "code" | "message" | "param"> &
  Partial<Pick<ApiError, "retryAfterMs" | "headers">>;

const fields = (
  status: number,
  type: OpenAiErrorType,
  code: string,
  message: string,
  param: string | null = null,
): ErrorFields => ({ status, type, code, message, param });

function make(e: ErrorFields, permanent: boolean, defaultRetryMs: number): ErrorResponse {
  const shed = e.status === 429 || e.status === 503;
  const headers: Record<string, string> = {
    ...(e.headers ?? {}),
    ...(shed ? retryAfterHeaders(e.retryAfterMs ?? defaultRetryMs) : {}),
  };
  if (permanent) headers["x-should-retry"] = "false";
  return {
    status: e.status,
    headers,
    body: { error: { message: e.message, type: e.type, param: e.param, code: e.code } },
  };
}

/**
 * The HTTP answer to each backend error, by its code (exhaustive: a new code does not compile
 * without its answer). `permanent` sets x-should-retry: false.
 */
const BACKEND_ANSWERS: Readonly<
  Record<BackendErrorCode, { status: number; type: OpenAiErrorType; permanent: boolean; param?: string }>
> = {
  model_not_found: { status: 404, type: "invalid_request_error", permanent: true, param: "model" },
  model_load_failed: { status: 500, type: "server_error", permanent: true },
  gpu_out_of_memory: { status: 503, type: "service_unavailable", permanent: false },
  // The worker tries the download again on its own schedule (gpu/download.ts).
  model_download_failed: { status: 503, type: "service_unavailable", permanent: false },
  backend_timeout: { status: 504, type: "timeout_error", permanent: false },
  worker_unavailable: { status: 503, type: "service_unavailable", permanent: false },
  ipc_corrupt_frame: { status: 503, type: "service_unavailable", permanent: false },
};

function fromBackendError(e: unknown, defaultRetryMs: number): ErrorResponse | undefined {
  if (!isBackendError(e)) return undefined;
  const a = BACKEND_ANSWERS[e.code];
  return make(fields(a.status, a.type, e.code, e.message, a.param), a.permanent, defaultRetryMs);
}

/**
 * The single error -> HTTP mapping of the service. `defaultRetryMs` is the live estimate used
 * when the error itself does not say when to come back.
 */
export function toErrorResponse(e: unknown, defaultRetryMs = 1000): ErrorResponse {
  if (isStreamCommittedError(e)) return toErrorResponse(e.cause, defaultRetryMs);
  if (isApiError(e)) return make(e, [400, 401, 403, 404, 413].includes(e.status), defaultRetryMs);
  const backend = fromBackendError(e, defaultRetryMs);
  if (backend) return backend;
  if (e instanceof BrokenCircuitError)
    return make(
      fields(503, "service_unavailable", "circuit_open", "the model backend is failing; circuit open"),
      false,
      defaultRetryMs,
    );
  if (e instanceof TaskCancelledError || isDeadlineExceededError(e))
    return make(fields(504, "timeout_error", "request_timeout", "the request deadline passed"), false, 0);
  return make(fields(500, "server_error", "internal_error", "internal error"), false, defaultRetryMs);
}
