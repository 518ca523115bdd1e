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

export class DeadlinePolicy {
  constructor(
    private readonly clock: Clock,
    readonly timeoutMs: number,
  ) {}

  async execute<T>(
    fn: (signal: AbortSignal, deadline: AbortSignal) => Promise<T>,
    signal: AbortSignal,
    timeoutMs: number = this.timeoutMs,
  ): Promise<T> {
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(
      () => deadline.abort(new DeadlineExceededError(timeoutMs)),
      timeoutMs,
    );
    try {
      return await fn(AbortSignal.any([signal, deadline.signal]), deadline.signal);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }
}
