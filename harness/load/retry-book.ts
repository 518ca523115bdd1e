import type { RetryLink, RetryLog } from "../sla/retries.js";

/** A retry booked for later: when it is due, the row it repeats, and its template. */
export interface PendingRetry {
  readonly at: number;
  readonly of: number;
  readonly template: number;
  readonly retryAfterMs: number;
}

/**
 * The retries a client that honours Retry-After owes: booked when a shed answer arrives, due
 * at its end plus the wait it asked for, handed to the load loop in time order (ties in booking
 * order), and linked to the row that carried them once sent. Pure bookkeeping, no clock: the
 * load execution passes times in.
 */
export class RetryBook {
  private pending: PendingRetry[] = [];
  private readonly links: RetryLink[] = [];
  private readonly retryRows = new Set<number>();
  private withoutRetryAfter = 0;
  private unsent = 0;

  /** @param endMs a retry due later than this is not sent. */
  constructor(private readonly endMs: number) {}

  /**
   * A shed answer to `row`, received at `now`, with the wait it asked for (undefined: none a
   * client could use). Returns the booked retry's due time, or undefined when none was booked:
   * the row was itself a retry (retried once only), the answer named no usable wait, or the
   * retry would fall after the plan's end or after the load stopped (`accepting` false).
   */
  shed(
    row: number,
    template: number,
    now: number,
    retryAfterMs: number | undefined,
    accepting: boolean,
  ): number | undefined {
    if (this.retryRows.has(row)) return undefined;
    if (retryAfterMs === undefined) {
      this.withoutRetryAfter++;
      return undefined;
    }
    const at = now + retryAfterMs;
    if (!accepting || at > this.endMs) {
      this.unsent++;
      return undefined;
    }
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].at > at) i--;
    this.pending.splice(i, 0, { at, of: row, template, retryAfterMs });
    return at;
  }

  /** Due time of the earliest pending retry. */
  get nextAt(): number | undefined {
    return this.pending[0]?.at;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Removes and returns the earliest pending retry. */
  take(): PendingRetry | undefined {
    return this.pending.shift();
  }

  isRetry(row: number): boolean {
    return this.retryRows.has(row);
  }

  /** The retry `p` went out as `row`. */
  sent(p: PendingRetry, row: number): void {
    this.links.push({ row, of: p.of, retryAfterMs: p.retryAfterMs });
    this.retryRows.add(row);
  }

  /** The load stopped: pending retries will not be sent. */
  dropPending(): void {
    this.unsent += this.pending.length;
    this.pending = [];
  }

  log(): RetryLog {
    return { links: [...this.links], withoutRetryAfter: this.withoutRetryAfter, unsent: this.unsent };
  }
}
