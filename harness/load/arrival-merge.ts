import type { Clock, TimerHandle } from "../../common/clock.js";
import type { ArrivalSchedule } from "./plan.js";
import type { PendingRetry, RetryBook } from "./retry-book.js";

/** What the merge issues into; one object for the whole run. */
export interface IssueHooks {
  /** Run time (ms from the time origin). */
  now(): number;
  /** A planned arrival intended at `intended` (run time) is due. */
  arrival(intended: number): void;
  /** A booked retry is due (already taken from the book). */
  retry(p: PendingRetry): void;
  /** Nothing more will be issued: the plan and every retry are done, or the load stopped. */
  issuingOver(): void;
}

/**
 * When requests go out: the plan's arrivals and the booked retries, merged into one stream in
 * intended order (the request log's invariant), on one timer that wakes at whichever is next.
 */
export class ArrivalMerge {
  /** No planned arrival is left to issue (booked retries may still be due), or the load stopped. */
  arrivalsDone = false;
  private stopped = false;
  private nextAt: number | undefined;
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => this.tick();

  constructor(
    private readonly clock: Clock,
    private readonly schedule: ArrivalSchedule,
    private readonly retries: RetryBook | null,
    private readonly hooks: IssueHooks,
  ) {}

  /** Starts at the time origin; `stopped` when the load was stopped before it began. */
  start(stopped: boolean): void {
    this.stopped = stopped;
    this.nextAt = this.schedule.next();
    this.tick();
  }

  /** Issues every arrival and retry now due, merged in intended order. */
  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return this.endIssuing();
    const now = this.hooks.now();
    for (;;) {
      const retryAt = this.retries?.nextAt;
      const arrival = this.arrivalsDone ? undefined : this.nextAt;
      if (retryAt !== undefined && retryAt <= now && (arrival === undefined || retryAt <= arrival)) {
        const p = this.retries?.take();
        if (p !== undefined) this.hooks.retry(p);
      } else if (arrival !== undefined && arrival <= now) {
        this.hooks.arrival(arrival);
        this.nextAt = this.schedule.next();
      } else break;
    }
    this.arm();
  }

  /** Wakes at the next arrival or retry; with neither left, issuing is over. */
  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const arrival = this.arrivalsDone ? undefined : this.nextAt;
    const retryAt = this.retries?.nextAt;
    const next =
      arrival === undefined ? retryAt : retryAt === undefined ? arrival : Math.min(arrival, retryAt);
    if (arrival === undefined) this.arrivalsDone = true;
    if (next === undefined) return this.endIssuing();
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, next - this.hooks.now()));
  }

  /** Multiplies the plan's arrival rate from now on; the next arrival is retimed. */
  setRateMultiplier(m: number): void {
    const retimed = this.schedule.setRateMultiplier(m, this.hooks.now());
    if (retimed === undefined || this.arrivalsDone) return;
    this.nextAt = retimed === Number.POSITIVE_INFINITY ? undefined : retimed;
    this.arm();
  }

  /** A retry was booked for `at`: wake for it if it is now the earliest. */
  booked(at: number): void {
    if (at === this.retries?.nextAt) this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.endIssuing();
  }

  private endIssuing(): void {
    this.arrivalsDone = true;
    this.hooks.issuingOver();
  }
}
