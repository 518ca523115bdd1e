/**
 * Admission control: a bulkhead (bounded concurrency) with a bounded, deadline-limited queue,
 * on the injected Clock. Beyond it, requests are refused with 429 (capacity) or 503
 * (draining, queue wait too long), each with a Retry-After computed from the work ahead and
 * the observed drain rate. Same `execute(fn, signal)` shape as cockatiel's policies.
 *
 * Keeping the Retry-After promise: under a burst, fresh arrivals keep the queue full, so a
 * client coming back at the advertised time would be refused again like any newcomer. Each
 * refusal therefore books a place (a promise) and counts the places already promised as work
 * ahead of the next refused client, which spreads the retries over the time the service needs
 * for them. Retries are promised only `retryShare` of the drain rate: were they promised all
 * of it, retries coming back on time plus the new arrivals of the moment would overload the
 * service again and the refusals would go on long after the burst. A retry (marked as the OpenAI SDKs mark theirs) that comes back while a promise is
 * open redeems it and waits at the head of the queue, in a place set aside beyond `maxQueue`
 * (a herd of retries returning at once must not push fresh arrivals out). A promise lapses once
 * its Retry-After plus a queue timeout has passed. Only as many requests jump the line as
 * refusals were issued, so a client that merely claims to be retrying gains nothing. No more
 * places are promised than that share drains in the longest Retry-After it gives (60 s):
 * beyond that a refused client is told 60 s without a place kept, and the book stays bounded.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { MAX_RETRY_AFTER_MS, capacityExceeded, clampRetryAfterMs, unavailable } from "../api/errors.js";
import { DrainRate } from "./drain-rate.js";

export interface AdmissionOptions {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly rateWindowMs: number;
  /** Wait assumed per queued request before any completion was observed. */
  readonly coldEstimateMs?: number;
  /**
   * Share of the drain rate promised to refused clients' retries (default 0.5); the rest stays
   * for new arrivals, which keep coming while the retries wait.
   */
  readonly retryShare?: number;
}

export type RejectionReason = "queue_full" | "queue_timeout" | "draining";

interface Waiter {
  readonly start: () => void;
  readonly fail: (e: Error) => void;
  /** A redeemed promise: waits ahead of fresh arrivals. */
  readonly retry: boolean;
  timer?: TimerHandle;
}

export class AdmissionControl {
  private active = 0;
  /** Redeemed retries first (`retryWaiting` of them), then fresh arrivals, each in FIFO order. */
  private readonly queue: Waiter[] = [];
  private retryWaiting = 0;
  /** Lapse times (monotonic, ascending) of places promised to refused clients, not yet redeemed. */
  private readonly promises: number[] = [];
  private readonly rate: DrainRate;
  private drainingSince: number | undefined;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly clock: Clock,
    private readonly onReject: (code: 429 | 503, reason: RejectionReason) => void = () => undefined,
  ) {
    this.rate = new DrainRate(clock, options.rateWindowMs);
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Places promised to refused clients and not yet redeemed or lapsed. */
  get promised(): number {
    const now = this.clock.monotonic();
    let lapsed = 0;
    while (lapsed < this.promises.length && this.promises[lapsed] <= now) lapsed++;
    if (lapsed > 0) this.promises.splice(0, lapsed);
    return this.promises.length;
  }

  /** From now on new requests are refused with 503; queued and running ones continue. */
  beginDrain(): void {
    this.drainingSince ??= this.clock.now();
  }

  /**
   * Milliseconds until `position` requests ahead of a newcomer have moved into service, at the
   * observed drain rate. Not clamped here; the HTTP layer clamps to 1-60 s.
   */
  estimateWaitMs(position = this.queue.length + this.promised + 1): number {
    return Math.ceil(position / this.drainPerMs());
  }

  /**
   * The Retry-After of a refusal: the queue ahead drains at the full rate, the places already
   * promised and the refused client's own at the retries' share of it.
   */
  private refusalWaitMs(): number {
    const perMs = this.drainPerMs();
    return Math.ceil(this.queue.length / perMs + (this.promised + 1) / (perMs * this.retryShare()));
  }

  /** Observed completions per ms; before any, one per coldEstimateMs. */
  private drainPerMs(): number {
    const perSecond = this.rate.perSecond();
    return perSecond === undefined ? 1 / (this.options.coldEstimateMs ?? 1000) : perSecond / 1000;
  }

  private retryShare(): number {
    return this.options.retryShare ?? 0.5;
  }

  /**
   * @param retry the client says this is a retry (OpenAI SDKs send `x-stainless-retry-count` >= 1);
   *   it is honoured only while a promised place is open.
   */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal, retry = false): Promise<T> {
    signal.throwIfAborted();
    if (this.drainingSince !== undefined) throw this.reject(503, "draining");
    const redeemed = retry && this.redeem();
    if (this.active < this.options.maxConcurrent) {
      this.active++;
      return this.run(fn, signal);
    }
    // maxQueue bounds fresh waiters; redeemed retries wait in places set aside for them.
    if (!redeemed && this.queue.length - this.retryWaiting >= this.options.maxQueue)
      throw this.reject(429, "queue_full");
    await this.enqueue(signal, redeemed);
    return this.run(fn, signal);
  }

  /**
   * Runs a synchronous `fn` in a free slot exactly as `execute` would run it (a marked retry
   * redeems a promise, the completion counts in the drain rate) and hands back its value;
   * undefined without running it when `execute` would do more (draining: a refusal; no free
   * slot: the queue). For answers that need no wait, such as an open breaker's refusal.
   */
  runNow<T>(fn: () => T, retry = false): { readonly value: T } | undefined {
    if (this.drainingSince !== undefined || this.active >= this.options.maxConcurrent) return undefined;
    if (retry) this.redeem();
    try {
      return { value: fn() };
    } finally {
      this.rate.record();
    }
  }

  /** Takes the open promise closest to lapsing, if any. */
  private redeem(): boolean {
    if (this.promised === 0) return false;
    this.promises.shift();
    return true;
  }

  /** Keeps a place for a refused client until `lapseAt`, within the bound on promises. */
  private promise(lapseAt: number): void {
    if (this.promised >= Math.ceil(this.drainPerMs() * this.retryShare() * MAX_RETRY_AFTER_MS)) return;
    let i = this.promises.length;
    while (i > 0 && this.promises[i - 1] > lapseAt) i--;
    this.promises.splice(i, 0, lapseAt);
  }

  private async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await fn(signal);
    } finally {
      this.release();
    }
  }

  private enqueue(signal: AbortSignal, retry: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.remove(waiter);
        reject(signal.reason as Error);
      };
      const waiter: Waiter = {
        retry,
        start: () => {
          signal.removeEventListener("abort", onAbort);
          this.clock.clearTimeout(waiter.timer);
          resolve();
        },
        fail: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      waiter.timer = this.clock.setTimeout(() => {
        this.remove(waiter);
        waiter.fail(this.reject(503, "queue_timeout"));
      }, this.options.queueTimeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      if (retry) this.queue.splice(this.retryWaiting++, 0, waiter);
      else this.queue.push(waiter);
    });
  }

  private remove(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i >= 0) {
      this.queue.splice(i, 1);
      if (waiter.retry) this.retryWaiting--;
    }
    this.clock.clearTimeout(waiter.timer);
  }

  private release(): void {
    this.rate.record();
    const next = this.queue.shift();
    if (next?.retry) this.retryWaiting--;
    // The slot passes straight to the next waiter, so `active` is unchanged in that case.
    if (next) next.start();
    else this.active--;
  }

  private reject(code: 429 | 503, reason: RejectionReason): Error {
    this.onReject(code, reason);
    const wait = this.refusalWaitMs();
    // A draining server will not be there to keep a promise.
    if (reason !== "draining")
      this.promise(this.clock.monotonic() + clampRetryAfterMs(wait) + this.options.queueTimeoutMs);
    switch (reason) {
      case "queue_full":
        return capacityExceeded(
          `server at capacity (${this.active} running, ${this.queue.length} queued)`,
          wait,
        );
      case "queue_timeout":
        return unavailable("queue_timeout", `waited ${this.options.queueTimeoutMs} ms in the queue`, wait);
      case "draining":
        return unavailable("draining", "the server is shutting down", wait);
      default: {
        const never: never = reason;
        return never;
      }
    }
  }
}
