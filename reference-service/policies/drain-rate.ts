import type { Clock } from "../../common/clock.js";

/**
 * Completions per second observed over a sliding window, on the injected clock. Feeds the
 * Retry-After estimate: how long until the current queue has moved into service.
 */
export class DrainRate {
  private readonly stamps: number[] = [];
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {
    this.startedAt = clock.monotonic();
  }

  record(): void {
    this.stamps.push(this.clock.monotonic());
    this.prune();
  }

  /** Completions per second; undefined until at least one completion is in the window. */
  perSecond(): number | undefined {
    this.prune();
    if (this.stamps.length === 0) return undefined;
    const now = this.clock.monotonic();
    // A window younger than windowMs (service just started) is measured over its real age.
    const span = Math.max(1, Math.min(this.windowMs, now - this.startedAt));
    return (this.stamps.length * 1000) / span;
  }

  private prune(): void {
    const cutoff = this.clock.monotonic() - this.windowMs;
    while (this.stamps.length > 0 && this.stamps[0] <= cutoff) this.stamps.shift();
  }
}
