/**
 * The policies around every call to the model backend, in order:
 *   deadline (per-request timeout, Clock) -> retry (cockatiel, transient only, never after the
 *   first byte) -> circuit breaker (cockatiel) -> primary backend
 * and, when that fails for a backend reason before the client got a byte, the fallback chain
 * with declared service levels: degraded (cache, CPU model) -> minimal (static) -> the error,
 * which the HTTP layer answers as 503 + Retry-After. Admission control wraps this from outside
 * (the slot is held for the whole answer, stream included).
 *
 * With recovery ladders on (recovery-ladder.ts, write-up 002), a failure of a class that has a
 * ladder (GPU OOM, model load, worker/IPC, model download) climbs it first, inside what is left of the request's
 * deadline: each step acts (frees idle GPU models, waits for the supervisor's worker, cuts the
 * context or max_tokens, routes to the CPU model) and tries again; its last step is the
 * fallback chain. Only an answer of the primary model with the request as sent is `full`.
 */
import { BrokenCircuitError, wrap, type IPolicy } from "cockatiel";
import type { Clock } from "../../common/clock.js";
import {
  CorruptFrameError,
  BackendTimeoutError,
  ModelNotFoundError,
  WorkerUnavailableError,
  isBackendError,
} from "../backend-errors.js";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../backend.js";
import type { ServiceLevel } from "../contract.js";
import type { BackendBreaker } from "./breaker.js";
import { DeadlinePolicy, isDeadlineExceededError, type DeadlineState } from "./deadline.js";
import { ProgressTracker } from "./progress.js";
import { AnswerRecorder, type ResponseCache } from "./response-cache.js";
import {
  LadderExhaustedError,
  SYSTEM_RESOURCE_LADDER,
  type LadderName,
  type LadderStep,
  type RecoveryLadders,
  type StepResult,
} from "./recovery-ladder.js";
import { AttemptIdleWatch } from "./idle-watch.js";
import { retryPolicy, type RetryOptions } from "./retry.js";
import { StreamCommittedError, isStreamCommittedError } from "./stream-committed-error.js";
import { toTokens } from "./text-tokens.js";

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

/** What the ladder steps act on outside the API process; an absent action skips its step. */
export interface RecoveryActions {
  /** Frees GPU memory held by idle models other than `keep`; resolves with the models it freed. */
  clearGpuCache?(keep: string, signal: AbortSignal): Promise<readonly string[]>;
  /** Resolves true once the supervised worker serves again (within `ms`), else false. */
  waitForWorker?(ms: number, signal: AbortSignal): Promise<boolean>;
  /**
   * The host's CPU and memory against their critical thresholds: null when healthy (or not
   * known), else what is critical (e.g. "memory 97% >= 95%").
   */
  systemCritical?(): string | null;
}

export interface RecoveryDeps {
  readonly ladders: RecoveryLadders;
  /** enable_cpu_offload routes here. */
  readonly cpuOffload: ModelBackend;
  readonly optimizedContextTokens: number;
  readonly reducedMaxTokens: number;
  readonly pipelineWaitMs: number;
  /** breaker.closeOnFreshWorker: restart_pipeline waits for the worker only when it closes the breaker. */
  readonly breakerClosesOnFreshWorker: boolean;
  readonly actions: RecoveryActions;
}

export interface PipelineDeps {
  readonly primary: ModelBackend;
  readonly breaker: BackendBreaker;
  readonly retry: RetryOptions;
  readonly timeoutMs: number;
  /** An attempt of the primary with no event for this long fails as backend_timeout; null = off. */
  readonly attemptIdleTimeoutMs?: number | null;
  readonly fallbacks: readonly FallbackLevel[];
  readonly cache?: ResponseCache;
  readonly clock: Clock;
  readonly observer?: PipelineObserver;
  /** Recovery ladders before the fallback chain; absent = the fallback chain at once. */
  readonly recovery?: RecoveryDeps;
}

/** Label for why the full service could not answer. */
export function failureReason(e: unknown): string {
  if (e instanceof BrokenCircuitError) return "circuit_open";
  if (isDeadlineExceededError(e)) return "timeout";
  if (isBackendError(e)) return e.code;
  return "error";
}

/**
 * What failed an attempt of the primary. A deadline or an idle timeout shows up as whatever the
 * backend throws on abort; name it, so the breaker and the retry see a backend_timeout.
 */
function attemptFailure(e: unknown, watch: AttemptIdleWatch | undefined, deadline: DeadlineState): unknown {
  if (watch?.expired) return watch.expired;
  return deadline.aborted && !isBackendError(e) ? new BackendTimeoutError(String(deadline.reason)) : e;
}

/** Failures of the client's own making are answered as they are, never by a fallback. */
const fallsBack = (e: unknown): boolean => !(e instanceof ModelNotFoundError) && !isStreamCommittedError(e);

const skipped = (why: string): StepResult<Served> => ({ outcome: "skipped", why });

/**
 * Steps whose action ends in another attempt of the primary model. restart_pipeline is not
 * among them: a fresh worker closes the breaker (breaker.closeOnFreshWorker), so it waits first.
 */
const TRIES_PRIMARY: ReadonlySet<LadderStep> = new Set([
  "system_health_check",
  "clear_gpu_cache",
  "retry_model_load",
  "retry_model_download",
  "apply_vram_optimization",
  "reduce_generation_params",
]);

export class ServingPipeline {
  readonly progress: ProgressTracker;
  private readonly deadline: DeadlinePolicy;
  private readonly full: IPolicy;
  /** Code of the primary's last failure: while the breaker is open, the class still in effect. */
  private lastFailureCode: string | null = null;

  constructor(private readonly deps: PipelineDeps) {
    this.progress = new ProgressTracker(deps.clock);
    this.deadline = new DeadlinePolicy(deps.clock, deps.timeoutMs);
    const retry = retryPolicy(deps.retry);
    retry.onRetry((r) =>
      deps.observer?.retry(deps.primary.name, "error" in r ? failureReason(r.error) : "result"),
    );
    this.full = wrap(retry, deps.breaker.policy);
  }

  /** The recovery ladders, or null when they are off. */
  get ladders(): RecoveryLadders | null {
    return this.deps.recovery?.ladders ?? null;
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
    const deadlineAt = this.deps.clock.monotonic() + timeoutMs;
    // An open breaker refuses before any deadline timer, signal or retry wrapper is set up:
    // failing fast must cost less than answering.
    if (this.deps.breaker.refusesNow())
      return this.afterPrimaryFailed(req, sink, signal, this.deps.breaker.refusal(), deadlineAt);
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
      return this.afterPrimaryFailed(req, sink, signal, e, deadlineAt);
    }
  }

  /**
   * True when a request would be refused right now without any asynchronous step: the breaker
   * refuses, no recovery ladder applies to the failures that opened it, and there is no
   * fallback to try. serve() would then only count the fallback miss and throw the refusal,
   * which is what `refuse()` does, so the caller may answer without the slot wait, client
   * signal and sink a served request needs.
   */
  refusesAtOnce(): boolean {
    if (this.deps.fallbacks.length > 0 || !this.deps.breaker.refusesNow()) return false;
    const code = this.lastFailureCode;
    return code === null || !this.deps.recovery?.ladders.ladderFor(code);
  }

  /** serve()'s end when `refusesAtOnce()`: the fallback miss counted, the refusal returned. */
  refuse(): Error {
    const refusal = this.deps.breaker.refusal();
    this.deps.observer?.fallback(this.deps.primary.name, "none", failureReason(refusal));
    return refusal;
  }

  /**
   * Runs `ladder` now for a probe request whose answer is discarded (002's "POST
   * /api/v1/recovery/trigger: manually trigger recovery for specific failure types"): the same
   * steps, order, cooldown and counts as a ladder a failing request climbs. Resolves with the
   * step that answered and at which level; rejects with the last step's failure when none did.
   * Null when the ladders are off.
   */
  async triggerRecovery(
    ladder: LadderName,
    req: GenerationRequest,
    signal: AbortSignal,
  ): Promise<{ readonly step: LadderStep; readonly served: Served } | null> {
    const recovery = this.deps.recovery;
    if (!recovery) return null;
    const deadlineAt = this.deps.clock.monotonic() + this.deadline.timeoutMs;
    const cause = new Error(`recovery of ${ladder} triggered by the operator`);
    const discard: AnswerSink = { committed: false, reset: () => undefined, push: () => undefined };
    const run = await recovery.ladders.run<Served>(
      ladder,
      (step) => this.runStep(step, req, discard, signal, cause, deadlineAt),
      cause,
      () => signal.aborted,
    );
    return { step: run.step, served: run.value };
  }

  /** The primary failed or was refused: the recovery ladder of its failure class, else the fallback chain. */
  private afterPrimaryFailed(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    e: unknown,
    deadlineAt: number,
  ): Promise<Served> {
    signal.throwIfAborted();
    if (!fallsBack(e)) throw e;
    // Refused by the open breaker: climb the ladder of the failures that opened it (their
    // class is still in effect), with the steps that need the primary skipped until it closes.
    const reason = failureReason(e);
    const code = reason === "circuit_open" ? this.lastFailureCode : reason;
    const own = code === null ? null : (this.deps.recovery?.ladders.ladderFor(code) ?? null);
    // 002's system resource errors: the same failure while the host is critical is the host's.
    const ladder = own && this.deps.recovery?.actions.systemCritical?.() ? SYSTEM_RESOURCE_LADDER : own;
    if (ladder) return this.climb(ladder, req, sink, signal, e, deadlineAt);
    return this.fallBack(req, sink, signal, e);
  }

  /** Runs `ladder` for this request; throws the primary's failure when no step answered. */
  private async climb(
    ladder: LadderName,
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    cause: unknown,
    deadlineAt: number,
  ): Promise<Served> {
    const recovery = this.deps.recovery!;
    // Once the client has bytes, or has gone, no further step may run.
    const fatal = (e: unknown): boolean => signal.aborted || isStreamCommittedError(e) || sink.committed;
    try {
      const run = await recovery.ladders.run<Served>(
        ladder,
        (step) => this.runStep(step, req, sink, signal, cause, deadlineAt),
        cause,
        fatal,
      );
      return run.value;
    } catch (e) {
      signal.throwIfAborted();
      if (e instanceof LadderExhaustedError) throw cause;
      throw sink.committed && !isStreamCommittedError(e) ? new StreamCommittedError(e) : e;
    }
  }

  private async runStep(
    step: LadderStep,
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    cause: unknown,
    deadlineAt: number,
  ): Promise<StepResult<Served>> {
    const r = this.deps.recovery!;
    const primary = (changed: GenerationRequest, level: "full" | "degraded") =>
      this.retryPrimary(changed, sink, signal, deadlineAt, {
        level,
        // Only the model with the request as sent is full service; a changed request says how.
        backend: level === "full" ? this.deps.primary.name : `${this.deps.primary.name}:${step}`,
      });
    // A step that ends in another try of the primary is pointless when that try cannot happen.
    const blocked = TRIES_PRIMARY.has(step) ? this.primaryBlocked(deadlineAt) : null;
    if (blocked) return skipped(blocked);
    switch (step) {
      case "system_health_check":
        return this.systemHealthCheck(() => primary(req, "full"));
      case "clear_gpu_cache": {
        if (!r.actions.clearGpuCache) return skipped("no GPU cache to clear in this service");
        await r.actions.clearGpuCache(req.model, signal);
        return primary(req, "full");
      }
      // retry_model_download: the worker starts a new download run of a model whose last one
      // failed; while a run waits for its next attempt, this try fails at once (gpu/download.ts).
      case "retry_model_load":
      case "retry_model_download":
        return primary(req, "full");
      case "restart_pipeline":
        return this.restartPipeline(signal, deadlineAt, () => primary(req, "full"));
      case "apply_vram_optimization":
      case "reduce_generation_params": {
        const changed = this.changedRequest(step, req);
        return typeof changed === "string" ? skipped(changed) : primary(changed, "degraded");
      }
      case "enable_cpu_offload": {
        const served: Served = { level: "degraded", backend: `${r.cpuOffload.name}:${step}` };
        await this.consume(r.cpuOffload, req, sink, signal, served);
        return { outcome: "answered", value: served };
      }
      case "fallback_to_mock":
        return { outcome: "answered", value: await this.fallBack(req, sink, signal, cause) };
      default: {
        const never: never = step;
        throw new Error(`unknown ladder step ${String(never)}`);
      }
    }
  }

  /** Reads the host's usage again: tries the model (`attempt`) once it is no longer critical. */
  private systemHealthCheck(attempt: () => Promise<StepResult<Served>>): Promise<StepResult<Served>> {
    const { actions } = this.deps.recovery!;
    if (!actions.systemCritical) return Promise.resolve(skipped("no host usage is read in this service"));
    const critical = actions.systemCritical();
    if (critical !== null) return Promise.reject(new Error(`system health check: ${critical}`));
    return attempt();
  }

  /** Waits for the supervisor's worker to serve again (within the deadline), then `attempt`. */
  private async restartPipeline(
    signal: AbortSignal,
    deadlineAt: number,
    attempt: () => Promise<StepResult<Served>>,
  ): Promise<StepResult<Served>> {
    const r = this.deps.recovery!;
    if (!r.actions.waitForWorker) return skipped("no supervised worker in this service");
    if (this.deps.breaker.state === "open" && !r.breakerClosesOnFreshWorker)
      return skipped("the breaker is open and waits out its whole open period");
    const waitMs = Math.min(r.pipelineWaitMs, deadlineAt - this.deps.clock.monotonic());
    if (waitMs <= 0) return skipped("the request's deadline has passed");
    if (!(await r.actions.waitForWorker(waitMs, signal)))
      throw new WorkerUnavailableError(`the worker was not serving again within ${waitMs} ms`);
    return attempt();
  }

  /** The request a step changes (context cut, fewer tokens), or why there is nothing to change. */
  private changedRequest(
    step: "apply_vram_optimization" | "reduce_generation_params",
    req: GenerationRequest,
  ): GenerationRequest | string {
    const r = this.deps.recovery!;
    if (req.kind === "embedding") return "an embedding request has no context or max_tokens to reduce";
    if (step === "reduce_generation_params")
      return req.maxTokens <= r.reducedMaxTokens
        ? `max_tokens is already at most ${r.reducedMaxTokens}`
        : { ...req, maxTokens: r.reducedMaxTokens };
    const tokens = toTokens(req.prompt);
    return tokens.length <= r.optimizedContextTokens
      ? `the prompt is already within ${r.optimizedContextTokens} tokens`
      : { ...req, prompt: tokens.slice(-r.optimizedContextTokens).join("") };
  }

  /** Why the primary cannot be tried now, or null. */
  private primaryBlocked(deadlineAt: number): string | null {
    if (deadlineAt - this.deps.clock.monotonic() <= 0) return "the request's deadline has passed";
    if (this.deps.breaker.state === "open") return "the breaker is open";
    return null;
  }

  /** One more attempt of the primary (breaker, no retry) within what is left of the deadline. */
  private async retryPrimary(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    deadlineAt: number,
    served: Served,
  ): Promise<StepResult<Served>> {
    const blocked = this.primaryBlocked(deadlineAt);
    if (blocked) return skipped(blocked);
    const remaining = deadlineAt - this.deps.clock.monotonic();
    try {
      await this.deadline.execute(
        (inner, deadline) =>
          this.deps.breaker.policy.execute(
            ({ signal: s }) => this.attemptPrimary(req, sink, s, deadline, served, served.level === "full"),
            inner,
          ),
        signal,
        remaining,
      );
    } catch (e) {
      // Half-open with its one probe already out: this attempt was refused, not failed.
      if (e instanceof BrokenCircuitError) return skipped("the breaker is open");
      throw e;
    }
    return { outcome: "answered", value: served };
  }

  private async attemptPrimary(
    req: GenerationRequest,
    sink: AnswerSink,
    signal: AbortSignal,
    deadline: DeadlineState,
    served: Served,
    /** false for a changed request (a ladder step): its answer is not the answer to cache. */
    cacheable = true,
  ): Promise<void> {
    const recorder = this.deps.cache && cacheable ? new AnswerRecorder() : undefined;
    const idleMs = this.deps.attemptIdleTimeoutMs;
    const watch = idleMs ? new AttemptIdleWatch(this.deps.clock, idleMs, signal) : undefined;
    this.progress.start();
    try {
      await this.consume(this.deps.primary, req, sink, watch?.signal ?? signal, served, recorder, watch);
    } catch (e) {
      const cause = attemptFailure(e, watch, deadline);
      if (isBackendError(cause)) this.lastFailureCode = cause.code;
      throw sink.committed && !isStreamCommittedError(cause) ? new StreamCommittedError(cause) : cause;
    } finally {
      watch?.dispose();
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
    watch?: AttemptIdleWatch,
  ): Promise<void> {
    sink.reset();
    let finished = false;
    for await (const event of backend.generate(req, signal)) {
      if (backend === this.deps.primary) {
        this.progress.progress();
        watch?.touch();
      }
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
