/**
 * One circuit breaker per backend, from cockatiel (consecutive failures, half-open after a
 * delay). Only BackendErrors that say `countsForBreaker` trip it: a bad request or an unknown
 * model says nothing about the backend's health. Transitions are reported to an observer
 * (metrics) and the time until half-open feeds Retry-After.
 *
 * cockatiel measures the open period with Date.now(); `openedAt` here is read from the same
 * wall clock (Clock.now() in production) so the estimate and the breaker agree.
 *
 * `backendRecovered()` ends the open period early: when the supervisor sees a fresh worker
 * serving, waiting out the rest of a 60 s open period would keep a healthy service degraded.
 * cockatiel reads the open period's `duration` at every call, so the backoff object below
 * drops it to 0 and the next request becomes the half-open probe. Should that probe fail (the
 * new worker was not quite serving yet), later open periods last at most
 * RECOVERY_PROBE_MS until the breaker closes, instead of another full period.
 */
import type { CircuitBreakerPolicy, IBackoff } from "cockatiel";
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import type { Clock } from "../../common/clock.js";
import { isBackendError } from "../backend-errors.js";
import { causeOf } from "./stream-committed-error.js";

export type BreakerStateName = "closed" | "open" | "half_open";

/** Open period after a recovery signal whose first probe failed. */
export const RECOVERY_PROBE_MS = 1000;

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly halfOpenAfterMs: number;
}

export type BreakerTransition = (backend: string, from: BreakerStateName, to: BreakerStateName) => void;

export function breakerStateName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half_open";
    case CircuitState.Open:
    case CircuitState.Isolated:
      return "open";
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** Whether a failure says something about the backend's health. */
export function countsForBreaker(e: unknown): boolean {
  const cause = causeOf(e);
  return isBackendError(cause) && cause.countsForBreaker;
}

/** A constant open period that can be cut short. */
class OpenPeriod implements IBackoff<unknown> {
  cutShort = false;
  constructor(
    private readonly ms: number,
    private readonly following: () => OpenPeriod,
  ) {}
  get duration(): number {
    return this.cutShort ? 0 : this.ms;
  }
  /** cockatiel asks the current period for the next one when a half-open probe fails. */
  next(): OpenPeriod {
    return this.following();
  }
}

export class BackendBreaker {
  readonly policy: CircuitBreakerPolicy;
  private current: BreakerStateName = "closed";
  private openedAt = 0;
  private period: OpenPeriod | undefined;
  private recovering = false;

  constructor(
    readonly backend: string,
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
    onTransition: BreakerTransition = () => undefined,
  ) {
    this.policy = circuitBreaker(handleWhen(countsForBreaker), {
      halfOpenAfter: {
        next: () => this.newPeriod(),
      },
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    this.policy.onStateChange((s) => {
      const next = breakerStateName(s);
      if (next === "open") this.openedAt = this.clock.now();
      if (next === "closed") this.recovering = false;
      const prev = this.current;
      this.current = next;
      if (prev !== next) onTransition(backend, prev, next);
    });
  }

  get state(): BreakerStateName {
    return this.current;
  }

  private newPeriod(): OpenPeriod {
    this.period = new OpenPeriod(this.openPeriodMs(), () => this.newPeriod());
    return this.period;
  }

  private openPeriodMs(): number {
    return this.recovering
      ? Math.min(RECOVERY_PROBE_MS, this.options.halfOpenAfterMs)
      : this.options.halfOpenAfterMs;
  }

  /** While open: ms until a half-open probe is let through; otherwise 0. */
  msUntilHalfOpen(): number {
    if (this.current !== "open" || !this.period || this.period.cutShort) return 0;
    return Math.max(0, this.openedAt + this.period.duration - this.clock.now());
  }

  /** The backend is serving again (new worker up): let the next call be the half-open probe. */
  backendRecovered(): void {
    if (this.current !== "open" || !this.period) return;
    this.recovering = true;
    this.period.cutShort = true;
  }
}
