/**
 * The policies around every call to the model backend, in order:
 *   deadline (per-request timeout, Clock) -> retry (cockatiel, transient only, never after the
 *   first byte) -> circuit breaker (cockatiel) -> primary backend
 * and, when that fails for a backend reason before the client got a byte, the fallback chain
 * with declared service levels: degraded (cache, CPU model) -> minimal (static) -> the error,
 * which the HTTP layer answers as 503 + Retry-After. Admission control wraps this from outside
 * (the slot is held for the whole answer, stream included).
 */
import { BrokenCircuitError, wrap, type IPolicy } from "cockatiel";
import type { Clock } from "../../common/clock.js";
import {
  CorruptFrameError,
  BackendTimeoutError,
  ModelNotFoundError,
  isBackendError,
} from "../backend-errors.js";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../backend.js";
import type { ServiceLevel } from "../contract.js";
import type { BackendBreaker } from "./breaker.js";
import { DeadlinePolicy, isDeadlineExceededError } from "./deadline.js";
import { ProgressTracker } from "./progress.js";
import { AnswerRecorder, type ResponseCache } from "./response-cache.js";
import { retryPolicy, type RetryOptions } from "./retry.js";
import { StreamCommittedError, isStreamCommittedError } from "./stream-committed-error.js";

export interface Served {
  readonly level: ServiceLevel;
  /** Backend that produced the answer (`worker`, `cache`, `cpu-model`, `static`). */
  readonly backend: string;
}

/** Where an answer goes: buffered (plain JSON) or written as it comes (SSE). */
export interface AnswerSink {
  /** True once bytes reached the client: no retry and no fallback from then on. */
  readonly committed: boolean;
  /** Discards what a failed, uncommitted attempt produced. */
  reset(): void;
  push(event: GenerationEvent, served: Served): void | Promise<void>;
}

export interface FallbackLevel {
  readonly level: Exclude<ServiceLevel, "full" | "unavailable">;
  readonly backend: ModelBackend;
}

export interface PipelineObserver {
  fallback(from: string, to: string, reason: string): void;
  retry(backend: string, reason: string): void;
}

export interface PipelineDeps {
  readonly primary: ModelBackend;
  readonly breaker: BackendBreaker;
  readonly retry: RetryOptions;
  readonly timeoutMs: number;
  readonly fallbacks: readonly FallbackLevel[];
  readonly cache?: ResponseCache;
  readonly clock: Clock;
  readonly observer?: PipelineObserver;
}

/** Label for why the full service could not answer. */
export function failureReason(e: unknown): string {
  if (e instanceof BrokenCircuitError) return "circuit_open";
  if (isDeadlineExceededError(e)) return "timeout";
  if (isBackendError(e)) return e.code;
  return "error";
}

/** Failures of the client's own making are answered as they are, never by a fallback. */
const fallsBack = (e: unknown): boolean => !(e instanceof ModelNotFoundError) && !isStreamCommittedError(e);

export class ServingPipeline {
  readonly progress: ProgressTracker;
  private readonly deadline: DeadlinePolicy;
  private readonly full: IPolicy;

  constructor(private readonly deps: PipelineDeps) {
    this.progress = new ProgressTracker(deps.clock);
    this.deadline = new DeadlinePolicy(deps.clock, deps.timeoutMs);
    const retry = retryPolicy(deps.retry);
    retry.onRetry((r) =>
      deps.observer?.retry(deps.primary.name, "error" in r ? failureReason(r.error) : "result"),
    );
    this.full = wrap(retry, deps.breaker.policy);
  }

  /**
   * Serves one request into `sink`; resolves with the level that answered, or throws.
   * `timeoutMs` overrides the per-request timeout (a stream continuation gets what is left).
   */
  async serve(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    timeoutMs: number = this.deadline.timeoutMs,
  ): Promise<Served> {
    const served: Served = { level: "full", backend: this.deps.primary.name };
    try {
      await this.deadline.execute(
        (inner, deadline) =>
          this.full.execute(({ signal: s }) => this.attemptPrimary(req, sink, s, deadline, served), inner),
        signal,
        timeoutMs,
      );
      return served;
    } catch (e) {
      signal.throwIfAborted();
      if (!fallsBack(e)) throw e;
      return this.fallBack(req, sink, signal, e);
    }
  }

  private async attemptPrimary(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    deadline: AbortSignal,
    served: Served,
  ): Promise<void> {
    const recorder = this.deps.cache ? new AnswerRecorder() : undefined;
    this.progress.start();
    try {
      await this.consume(this.deps.primary, req, sink, signal, served, recorder);
    } catch (e) {
      // A deadline shows up as whatever the backend throws on abort; name it for the breaker.
      const cause =
        deadline.aborted && !isBackendError(e) ? new BackendTimeoutError(String(deadline.reason)) : e;
      throw sink.committed && !isStreamCommittedError(cause) ? new StreamCommittedError(cause) : cause;
    } finally {
      this.progress.end();
    }
    const answer = recorder?.result();
    if (answer) this.deps.cache?.put(req, answer);
  }

  private async consume(
    backend: ModelBackend,
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    served: Served,
    recorder?: AnswerRecorder,
  ): Promise<void> {
    sink.reset();
    let finished = false;
    for await (const event of backend.generate(req, signal)) {
      if (backend === this.deps.primary) this.progress.progress();
      recorder?.observe(event);
      if (event.type !== "token") finished = true;
      await sink.push(event, served);
    }
    signal.throwIfAborted();
    if (!finished)
      throw new CorruptFrameError(`${backend.name} ended the answer without finishing it`, "truncated");
  }

  private async fallBack(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    cause: unknown,
  ): Promise<Served> {
    const reason = failureReason(cause);
    const from = this.deps.primary.name;
    for (const { level, backend } of this.deps.fallbacks) {
      const served: Served = { level, backend: backend.name };
      try {
        await this.consume(backend, req, sink, signal, served);
        this.deps.observer?.fallback(from, backend.name, reason);
        return served;
      } catch (e) {
        signal.throwIfAborted();
        if (sink.committed) throw new StreamCommittedError(e);
      }
    }
    this.deps.observer?.fallback(from, "none", reason);
    throw cause;
  }
}
