/**
 * Time as an injected dependency. Breakers, backoff, supervisors, watchdogs and recovery
 * windows take a Clock so tests can drive them with a ManualClock and exact expectations.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface TimerOptions {
  /**
   * The timer alone does not keep the process alive (Node's unref). For a guard on work that
   * holds the process anyway, e.g. a request's deadline: Node keeps the list of unref'd timers
   * of a duration when its last timer is cleared, where clearing the last ref'd one tore the
   * list down and the next request built it again (a per-request cost in the API's profile).
   * Only the system clock has a process to keep alive; a ManualClock ignores it.
   */
  readonly unref?: boolean;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (wall time; what run records store). */
  now(): number;
  /** Milliseconds from an arbitrary origin that never goes backwards (for durations). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolves after `ms` on this clock; rejects with the signal's reason if aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = (() => {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  const clock: Clock = {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    setTimeout(fn, ms, options) {
      const id = nextId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      if (options?.unref === true) t.unref();
      timers.set(id, t);
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) return;
      const t = timers.get(handle.id);
      if (t) clearTimeout(t);
      timers.delete(handle.id);
    },
    sleep: (ms, signal) => sleepOn(clock, ms, signal),
  };
  return clock;
})();

export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order, each
 * with `now()` equal to its due time, so timer callbacks that schedule more timers behave
 * exactly as they would in real time.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly origin: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
    this.origin = startMs;
  }

  now(): number {
    return this.current;
  }

  monotonic(): number {
    return this.current - this.origin;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.pending = this.pending.filter((t) => t.id !== handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.pending = this.pending.filter((t) => t.id !== due.id);
      // A timer overdue after freeze() fires late, at the current time, as a real one does.
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }

  /**
   * Moves time forward by `ms` without firing anything, as when the whole process is frozen
   * (SIGSTOP, the cgroup freezer of `docker pause`, a VM pause): the timers that fell due
   * fire late, at the next advance.
   */
  freeze(ms: number): void {
    this.current += ms;
  }

  /** Like advance, but lets promise continuations run between timers. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.nextDue(target);
      if (!due) break;
      this.pending = this.pending.filter((t) => t.id !== due.id);
      // A timer overdue after freeze() fires late, at the current time, as a real one does.
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
    await flushMicrotasks();
  }

  private nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.pending) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
