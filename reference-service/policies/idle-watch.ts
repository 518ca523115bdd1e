/**
 * Fails an attempt of the primary that has gone quiet: no event (first or next token, or the
 * end) for `idleMs`. A black-holed link or a wedged model server sends nothing and closes
 * nothing, so without it the attempt waits out the whole request deadline (30 s by default)
 * while the client gives up first. Envoy's per_try_idle_timeout does the same job.
 *
 * One timer per attempt, not one per token: each event only stamps the time, and the timer,
 * when it fires early, re-arms for what is left.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { BackendTimeoutError } from "../backend-errors.js";

export class AttemptIdleWatch {
  private readonly controller = new AbortController();
  private lastEventAt: number;
  private timer: TimerHandle | undefined;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer.reason);

  constructor(
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly outer: AbortSignal,
  ) {
    this.lastEventAt = clock.monotonic();
    if (outer.aborted) this.onOuterAbort();
    else outer.addEventListener("abort", this.onOuterAbort, { once: true });
    this.arm(idleMs);
  }

  /** Aborts when the outer signal does, or with a BackendTimeoutError when the attempt went quiet. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The idle timeout that ended the attempt, if it did. */
  get expired(): BackendTimeoutError | undefined {
    const r: unknown = this.controller.signal.reason;
    return r instanceof BackendTimeoutError ? r : undefined;
  }

  /** An event arrived: the attempt is alive. */
  touch(): void {
    this.lastEventAt = this.clock.monotonic();
  }

  dispose(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.outer.removeEventListener("abort", this.onOuterAbort);
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      const quiet = this.clock.monotonic() - this.lastEventAt;
      if (quiet < this.idleMs) {
        this.arm(this.idleMs - quiet);
        return;
      }
      this.timer = undefined;
      this.controller.abort(
        new BackendTimeoutError(
          `the model sent nothing for ${quiet} ms (attemptIdleTimeoutMs ${this.idleMs})`,
        ),
      );
    }, ms);
  }
}
