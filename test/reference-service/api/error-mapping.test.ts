import { BrokenCircuitError } from "cockatiel";
import { describe, expect, it } from "vitest";
import {
  ApiError,
  capacityExceeded,
  retryAfterHeaders,
  toErrorResponse,
} from "../../../reference-service/api/errors.js";
import {
  BackendTimeoutError,
  CorruptFrameError,
  GpuOutOfMemoryError,
  ModelLoadError,
  ModelNotFoundError,
  WorkerUnavailableError,
} from "../../../reference-service/backend-errors.js";
import { DeadlineExceededError } from "../../../reference-service/policies/deadline.js";
import { StreamCommittedError } from "../../../reference-service/policies/stream-committed-error.js";

const row = (e: unknown) => {
  const r = toErrorResponse(e, 2500);
  return [
    r.status,
    r.body.error.type,
    r.body.error.code,
    r.headers["retry-after"] ?? null,
    r.headers["x-should-retry"] ?? null,
  ];
};

describe("toErrorResponse: the one error -> HTTP mapping", () => {
  it.each([
    [
      "worker unavailable",
      new WorkerUnavailableError("w"),
      [503, "service_unavailable", "worker_unavailable", "3", null],
    ],
    [
      "corrupt frame",
      new CorruptFrameError("c", "crc"),
      [503, "service_unavailable", "ipc_corrupt_frame", "3", null],
    ],
    ["GPU OOM", new GpuOutOfMemoryError("oom"), [503, "service_unavailable", "gpu_out_of_memory", "3", null]],
    ["backend timeout", new BackendTimeoutError("t"), [504, "timeout_error", "backend_timeout", null, null]],
    ["corrupt weights", new ModelLoadError("bad"), [500, "server_error", "model_load_failed", null, "false"]],
    [
      "unknown model",
      new ModelNotFoundError("nf"),
      [404, "invalid_request_error", "model_not_found", null, "false"],
    ],
    ["breaker open", new BrokenCircuitError(), [503, "service_unavailable", "circuit_open", "3", null]],
    ["deadline", new DeadlineExceededError(100), [504, "timeout_error", "request_timeout", null, null]],
    ["capacity", capacityExceeded("full", 1200), [429, "rate_limit_error", "capacity_exceeded", "2", null]],
    [
      "bad request",
      new ApiError(400, "invalid_request_error", "invalid_request", "x", "model"),
      [400, "invalid_request_error", "invalid_request", null, "false"],
    ],
    [
      "failure after the first byte: judged by its cause",
      new StreamCommittedError(new WorkerUnavailableError("w")),
      [503, "service_unavailable", "worker_unavailable", "3", null],
    ],
    ["a bug", new TypeError("x is undefined"), [500, "server_error", "internal_error", null, null]],
  ])("%s", (_name, error, expected) => {
    expect(row(error)).toEqual(expected);
  });

  it("never leaks an internal message", () => {
    expect(toErrorResponse(new TypeError("secret stack detail")).body.error.message).toEqual(
      "internal error",
    );
  });

  it("clamps Retry-After to 1-60 s, rounding seconds up", () => {
    expect(retryAfterHeaders(0)).toEqual({ "retry-after": "1", "retry-after-ms": "1000" });
    expect(retryAfterHeaders(1001)).toEqual({ "retry-after": "2", "retry-after-ms": "1001" });
    expect(retryAfterHeaders(3_600_000)).toEqual({ "retry-after": "60", "retry-after-ms": "60000" });
  });
});
