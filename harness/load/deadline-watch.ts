import type { Clock, TimerHandle } from "../../common/clock.js";
import { DeadlineQueue, type Attempt } from "./attempt.js";

/**
 * Client deadlines of the requests in flight: one timer, armed at the earliest pending
 * deadline, expiring every attempt due when it fires (deadlines are pushed in send order,
 * which is close to deadline order; see DeadlineQueue).
 */
export class DeadlineWatch {
  private readonly queue = new DeadlineQueue();
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => this.arm(this.queue.expireDue(this.now()));

  /** @param now run time (ms from the time origin) */
  constructor(
    private readonly clock: Clock,
    private readonly now: () => number,
  ) {}

  /** Watches a sent attempt's deadline. */
  watch(a: Attempt): void {
    a.deadlineSlot = this.queue.push(a);
    if (this.timer === undefined) this.arm(a.deadlineAt);
  }

  /** `a` settled: its deadline no longer matters. */
  settled(a: Attempt): void {
    this.queue.settled(a.deadlineSlot);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number | undefined): void {
    this.timer = undefined;
    if (at === undefined) return;
    this.timer = this.clock.setTimeout(this.onTimer, at - this.now());
  }
}
