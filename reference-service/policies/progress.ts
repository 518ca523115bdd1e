/**
 * What the API itself sees of the primary backend's progress: requests in an attempt and the
 * time of the last event. The readiness watchdog says "stalled" when requests are running and
 * no token came for T (vLLM's proposed /health/decode), whatever the worker's heartbeat claims.
 */
import type { Clock } from "../../common/clock.js";

export class ProgressTracker {
  private running = 0;
  private lastProgress: number;

  constructor(private readonly clock: Clock) {
    this.lastProgress = clock.monotonic();
  }

  get inFlight(): number {
    return this.running;
  }

  start(): void {
    // A request that just started has not had time to stall: the clock starts with the first.
    if (this.running === 0) this.lastProgress = this.clock.monotonic();
    this.running++;
  }

  progress(): void {
    this.lastProgress = this.clock.monotonic();
  }

  end(): void {
    this.running = Math.max(0, this.running - 1);
  }

  /** ms since the last token while requests are running; 0 when idle. */
  stalledForMs(): number {
    return this.running === 0 ? 0 : this.clock.monotonic() - this.lastProgress;
  }
}
