/**
 * Admission control: a bulkhead (bounded concurrency) with a bounded, deadline-limited queue,
 * on the injected Clock. Beyond it, requests are refused with 429 (capacity) or 503
 * (draining, queue wait too long), each with a Retry-After computed from the live queue length
 * and the observed drain rate, so a client retrying at that time finds a free place.
 * Same `execute(fn, signal)` shape as cockatiel's policies.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { capacityExceeded, unavailable } from "../api/errors.js";
import { DrainRate } from "./drain-rate.js";

export interface AdmissionOptions {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly rateWindowMs: number;
  /** Wait assumed per queued request before any completion was observed. */
  readonly coldEstimateMs?: number;
}

export type RejectionReason = "queue_full" | "queue_timeout" | "draining";

interface Waiter {
  readonly start: () => void;
  readonly fail: (e: Error) => void;
  timer?: TimerHandle;
}

export class AdmissionControl {
  private active = 0;
  private readonly queue: Waiter[] = [];
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

  /** From now on new requests are refused with 503; queued and running ones continue. */
  beginDrain(): void {
    this.drainingSince ??= this.clock.now();
  }

  /**
   * Milliseconds until `position` requests ahead of a newcomer have moved into service, at the
   * observed drain rate. Not clamped here; the HTTP layer clamps to 1-60 s.
   */
  estimateWaitMs(position = this.queue.length + 1): number {
    const perSecond = this.rate.perSecond();
    if (perSecond === undefined) return position * (this.options.coldEstimateMs ?? 1000);
    return Math.ceil((position * 1000) / perSecond);
  }

  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    signal.throwIfAborted();
    if (this.drainingSince !== undefined) throw this.reject(503, "draining");
    if (this.active < this.options.maxConcurrent) {
      this.active++;
      return this.run(fn, signal);
    }
    if (this.queue.length >= this.options.maxQueue) throw this.reject(429, "queue_full");
    await this.enqueue(signal);
    return this.run(fn, signal);
  }

  private async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await fn(signal);
    } finally {
      this.release();
    }
  }

  private enqueue(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.remove(waiter);
        reject(signal.reason as Error);
      };
      const waiter: Waiter = {
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
      this.queue.push(waiter);
    });
  }

  private remove(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i >= 0) this.queue.splice(i, 1);
    this.clock.clearTimeout(waiter.timer);
  }

  private release(): void {
    this.rate.record();
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so `active` is unchanged in that case.
    if (next) next.start();
    else this.active--;
  }

  private reject(code: 429 | 503, reason: RejectionReason): Error {
    this.onReject(code, reason);
    const wait = this.estimateWaitMs();
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
