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
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
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

/**
 * The opening time cockatiel stamped on its open state, read from its toJSON() ({ ownState:
 * { openedAt } }, typed unknown, hence the checks); undefined if that shape ever changes.
 */
function cockatielOpenedAt(policy: CircuitBreakerPolicy): number | undefined {
  const saved = policy.toJSON();
  if (typeof saved !== "object" || saved === null || !("ownState" in saved)) return undefined;
  const own = saved.ownState;
  if (typeof own !== "object" || own === null || !("openedAt" in own)) return undefined;
  return typeof own.openedAt === "number" ? own.openedAt : undefined;
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
  /** cockatiel's own opening time (its Date.now()), for refusesNow's copy of its test. */
  private openedAtWall = 0;
  private period: OpenPeriod | undefined;
  /** The one refusal thrown while open (see refusal()). */
  private refusalError: BrokenCircuitError | undefined;
  private recovering = false;
  /** Kept to read and clear its count of consecutive failures (status and reset). */
  private readonly counter: ConsecutiveBreaker;
  private resetting = false;

  constructor(
    readonly backend: string,
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
    private readonly onTransition: BreakerTransition = () => undefined,
  ) {
    this.counter = new ConsecutiveBreaker(options.failureThreshold);
    this.policy = circuitBreaker(handleWhen(countsForBreaker), {
      halfOpenAfter: {
        next: () => this.newPeriod(),
      },
      breaker: this.counter,
    });
    this.policy.onStateChange((s) => {
      // reset() passes through cockatiel's "isolated" on its way to closed: not a real opening.
      if (this.resetting) return;
      const next = breakerStateName(s);
      if (next === "open") {
        this.openedAt = this.clock.now();
        this.openedAtWall = cockatielOpenedAt(this.policy) ?? Date.now();
      }
      if (next === "closed") this.recovering = false;
      const prev = this.current;
      this.current = next;
      if (prev !== next) this.onTransition(backend, prev, next);
    });
  }

  get state(): BreakerStateName {
    return this.current;
  }

  /**
   * True when `policy.execute` would refuse a call right now without running it: open, and the
   * open period not over. The same test cockatiel's execute makes (its state, its opening time
   * on Date.now(), the current period's duration), so a caller that sees true may answer the
   * refusal itself (with `refusal()`) and skip the deadline timer, abort signals and retry
   * wrapper that a refused call would set up for nothing. False = let cockatiel decide.
   */
  refusesNow(): boolean {
    return (
      this.policy.state === CircuitState.Open &&
      this.period !== undefined &&
      Date.now() - this.openedAtWall < this.period.duration
    );
  }

  /**
   * The error an open breaker refuses with: cockatiel's BrokenCircuitError, one instance built
   * once without a stack trace and thrown for every refusal. A refusal is an expected answer,
   * not a bug to locate: capturing the stack (async frames included) was the largest single
   * cost of a fast fail, and even a stackless construction about 3 µs (profiled). Nothing
   * here writes to an error after it is thrown; callers must not either.
   */
  refusal(): BrokenCircuitError {
    if (this.refusalError) return this.refusalError;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.refusalError = new BrokenCircuitError();
      return this.refusalError;
    } finally {
      Error.stackTraceLimit = limit;
    }
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

  /** Counted failures in a row (the breaker opens when this reaches the threshold). */
  get consecutiveFailures(): number {
    return this.counter.state;
  }

  /** While open: the wall-clock time (ms since the epoch) a probe will be let through; else null. */
  halfOpenAt(): number | null {
    if (this.current !== "open" || !this.period) return null;
    return this.period.cutShort ? this.clock.now() : this.openedAt + this.period.duration;
  }

  /** When it last opened (ms since the epoch), null if it never has. */
  get lastOpenedAt(): number | null {
    return this.openedAt === 0 ? null : this.openedAt;
  }

  /**
   * An operator's reset: close now and forget the failure count, whatever the state. Returns the
   * state it was in. cockatiel has no reset; isolating and releasing at once is its way back to
   * closed. A half-open probe still in flight may open it again if it fails: it is news.
   */
  reset(): BreakerStateName {
    const before = this.current;
    this.resetting = true;
    try {
      this.policy.isolate().dispose();
    } finally {
      this.resetting = false;
    }
    this.counter.success();
    this.recovering = false;
    this.period = undefined;
    this.current = "closed";
    if (before !== "closed") this.onTransition(this.backend, before, "closed");
    return before;
  }
}
