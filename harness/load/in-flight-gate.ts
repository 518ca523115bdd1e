/** What the gate needs from the run; one object for the whole run, so a request costs no closure. */
export interface GateHooks {
  /** Run time (ms from the time origin). */
  now(): number;
  /** The time after which `row` is a timeout: its intended time plus the deadline. */
  deadlineOf(row: number): number;
  /** Hands `row` to the target; `now` (run time) is its actual send time. */
  send(row: number, now: number): void;
  /** `row` waited past its deadline (`deadline`): record it as a timeout, never sent. */
  expire(row: number, deadline: number): void;
  /** A `max-in-flight` event's message. */
  episode(message: string): void;
}

/**
 * The in-flight cap: at most `max` requests outstanding. A due request beyond it waits in a
 * FIFO and is sent when a slot frees, or expires there when its deadline passes first.
 * Hitting the cap is counted, and each episode (from the first wait to an empty queue) is
 * reported once as it starts and once as it ends.
 */
export class InFlightGate {
  /** Requests sent and not yet settled. */
  inFlight = 0;
  /** Requests that found the cap full and had to wait. */
  hits = 0;
  /** Of those, requests whose deadline passed while waiting. */
  expired = 0;
  private readonly queue: number[] = [];
  private head = 0;
  private current: { startMs: number; waited: number; expired: number } | null = null;

  constructor(
    private readonly max: number,
    private readonly hooks: GateHooks,
  ) {}

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Nothing in flight and nothing waiting. */
  get idle(): boolean {
    return this.inFlight === 0 && this.head === this.queue.length;
  }

  /** Sends a due row now, or queues it behind the cap. */
  admit(row: number): void {
    // FIFO: while others wait, a new arrival queues behind them even if a slot just freed.
    if (this.inFlight < this.max && this.head === this.queue.length) {
      this.sendNow(row, this.hooks.now());
      return;
    }
    this.queue.push(row);
    this.hits++;
    if (this.current === null) {
      this.current = { startMs: this.hooks.now(), waited: 0, expired: 0 };
      this.hooks.episode(`in-flight cap of ${this.max} reached; due requests wait for a free slot`);
    }
    this.current.waited++;
  }

  /** A request in flight settled: its slot goes to the oldest waiting row still in time. */
  release(): void {
    this.inFlight--;
    while (this.head < this.queue.length && this.inFlight < this.max) {
      const row = this.queue[this.head++];
      const deadline = this.hooks.deadlineOf(row);
      // One clock reading decides and stamps: the send follows within microseconds.
      const now = this.hooks.now();
      if (now >= deadline) this.expire(row, deadline);
      else this.sendNow(row, now);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.endEpisode();
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private sendNow(row: number, now: number): void {
    this.inFlight++;
    this.hooks.send(row, now);
  }

  private expire(row: number, deadline: number): void {
    this.expired++;
    if (this.current) this.current.expired++;
    this.hooks.expire(row, deadline);
  }

  private endEpisode(): void {
    if (this.current === null) return;
    const e = this.current;
    this.current = null;
    const lasted = Math.round(this.hooks.now() - e.startMs);
    this.hooks.episode(
      `in-flight cap episode over after ${lasted} ms: ${e.waited} requests waited, ${e.expired} expired unsent (recorded as timeout)`,
    );
  }
}
