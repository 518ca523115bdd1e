/**
 * Per-request timeout on the injected Clock: the inner signal aborts when the client goes away
 * or when the deadline passes, whichever is first. cockatiel's TimeoutPolicy does the same on
 * real timers; this one is Clock-driven so deadlines are tested exactly. Same execute shape.
 */
import type { Clock } from "../../common/clock.js";

export class DeadlineExceededError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request deadline of ${timeoutMs} ms passed`);
    this.name = "DeadlineExceededError";
  }
}

export const isDeadlineExceededError = (e: unknown): e is DeadlineExceededError =>
  e instanceof DeadlineExceededError;

/**
 * Whether the deadline itself has passed (as opposed to the client going away): what an
 * AbortSignal's `aborted` and `reason` say, without the cost of one more signal per request.
 */
export interface DeadlineState {
  readonly aborted: boolean;
  readonly reason: unknown;
}

export class DeadlinePolicy {
  constructor(
    private readonly clock: Clock,
    readonly timeoutMs: number,
  ) {}

  async execute<T>(
    fn: (signal: AbortSignal, deadline: DeadlineState) => Promise<T>,
    signal: AbortSignal,
    timeoutMs: number = this.timeoutMs,
  ): Promise<T> {
    // One controller for "either", fed by a listener and the timer: AbortSignal.any did the same
    // with weak references and a registry per call, a visible share of every request's CPU in
    // a profile of the API. The inner signal takes the reason of whichever came first. The
    // deadline's own state is a plain object: creating an AbortSignal (and its EventTarget)
    // costs about 2 µs, and nothing listens to this one.
    const deadline: { aborted: boolean; reason: unknown } = { aborted: false, reason: undefined };
    const either = new AbortController();
    const onAbort = (): void => either.abort(signal.reason);
    // Unref'd: the request's socket keeps the process alive, and Node keeps the timer list of
    // an unref'd duration between requests instead of rebuilding it for each one (profiled).
    const timer = this.clock.setTimeout(
      () => {
        const reason = new DeadlineExceededError(timeoutMs);
        deadline.aborted = true;
        deadline.reason = reason;
        either.abort(reason);
      },
      timeoutMs,
      { unref: true },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await fn(either.signal, deadline);
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}
