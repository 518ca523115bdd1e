/**
 * Tells a watchdog whether it was itself frozen. A stale heartbeat is evidence against the
 * process that writes it only while the watchdog was running to see it stay stale: after the
 * whole container was frozen (`docker pause`, a VM pause) or the watchdog's event loop was
 * blocked, the writer was most likely frozen too, and its heartbeat's age says nothing.
 * Cassandra's failure detector skips its verdicts after a local pause for the same reason
 * (cassandra.max_local_pause_in_ms).
 *
 * The watchdog calls `tick()` on every pass; a pass that comes more than `thresholdMs` after
 * the previous one marks a resumption, and `staleFor(atMs)` then counts a heartbeat's age
 * from that resumption instead of from the heartbeat. Asked while the last tick is already
 * more than `thresholdMs` old (the freeze hit between a pass's tick and its verdict, or a
 * caller asks before the overdue pass has run), it answers 0: the watchdog has not been
 * watching, so it has seen nothing go stale yet.
 *
 * The threshold is a few of the watchdog's own pass intervals (`pauseThresholdMs`), not its
 * verdict bound: a stall shorter than the bound still leaves the watchdog blind for that
 * long. On a loaded 2-core machine the API process carrying all the load during a rolling
 * restart went unscheduled for about 900 ms while the other replica's new processes
 * started; with the bound (1000 ms) as the threshold, its first poll after that counted
 * the whole 900 ms against a worker whose last beat was already 400 ms late, called it
 * stale (1302 ms), failed every call in flight and opened the breaker
 * (claim-no-request-lost-on-restart-2-replicas: 17 and 135 of 400 answers from a fallback).
 */
import type { Clock } from "./clock.js";

/** Passes a watchdog may miss in a row before the gap counts as a pause of its own process. */
export const MISSED_PASSES_FOR_PAUSE = 5;

/**
 * The pause threshold of a watchdog whose passes are `passIntervalMs` apart and whose verdict
 * bound is `verdictMs`: MISSED_PASSES_FOR_PAUSE intervals (250 ms at 50 ms), at most the bound.
 */
export function pauseThresholdMs(passIntervalMs: number, verdictMs: number): number {
  return Math.min(verdictMs, MISSED_PASSES_FOR_PAUSE * passIntervalMs);
}

export class LocalPauseDetector {
  private lastTickAt: number | null = null;
  /** Epoch and monotonic time of the last resumption after a pause past the threshold. */
  private resumedAt = Number.NEGATIVE_INFINITY;
  private resumedAtMonotonic = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly thresholdMs: number,
  ) {}

  /** One watchdog pass; true when it ends a pause longer than the threshold. */
  tick(): boolean {
    const at = this.clock.monotonic();
    const resumed = this.lastTickAt !== null && at - this.lastTickAt > this.thresholdMs;
    if (resumed) {
      this.resumedAt = this.clock.now();
      this.resumedAtMonotonic = at;
    }
    this.lastTickAt = at;
    return resumed;
  }

  /** How long the watchdog has seen a heartbeat written at epoch `atMs` stay unchanged. */
  staleFor(atMs: number): number {
    if (this.unwatched()) return 0;
    const now = this.clock.now();
    return Math.max(0, now - Math.max(atMs, this.resumedAt));
  }

  /** How long the watchdog has been running since monotonic time `sinceMonotonic`. */
  watchedSince(sinceMonotonic: number): number {
    if (this.unwatched()) return 0;
    return Math.max(0, this.clock.monotonic() - Math.max(sinceMonotonic, this.resumedAtMonotonic));
  }

  private unwatched(): boolean {
    return this.lastTickAt !== null && this.clock.monotonic() - this.lastTickAt > this.thresholdMs;
  }
}
