/**
 * Retry with exponential backoff and decorrelated jitter (cockatiel's default generator), for
 * transient backend failures only, and never once the client has received bytes.
 */
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from "cockatiel";
import { isBackendError } from "../backend-errors.js";
import { isStreamCommittedError } from "./stream-committed-error.js";

export interface RetryOptions {
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const isRetryable = (e: unknown): boolean =>
  !isStreamCommittedError(e) && isBackendError(e) && e.retryable;

export function retryPolicy(options: RetryOptions): RetryPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: options.maxRetries,
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs }),
  });
}
