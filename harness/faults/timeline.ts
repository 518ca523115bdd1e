import type { Clock, TimerHandle } from "../../common/clock.js";

interface Due {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Timeline time on an injected clock: milliseconds since `start()`, not counting paused
 * spans. One armed timer at a time, for the earliest due action; pause disarms it and resume
 * re-arms it with the remaining delay, so every pending action shifts by the pause length.
 */
export class Timeline {
  private origin: number | null = null;
  private pausedAt: number | null = null;
  private pausedTotal = 0;
  private queue: Due[] = [];
  private seq = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  start(): void {
    if (this.origin !== null) return;
    this.origin = this.clock.monotonic();
    this.arm();
  }

  get started(): boolean {
    return this.origin !== null;
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  now(): number {
    if (this.origin === null) return 0;
    const raw = this.pausedAt ?? this.clock.monotonic();
    return raw - this.origin - this.pausedTotal;
  }

  at(timeMs: number, run: () => void): void {
    if (this.stopped) return;
    this.queue.push({ at: timeMs, seq: this.seq++, run });
    this.arm();
  }

  pause(): void {
    if (this.origin === null || this.pausedAt !== null) return;
    this.pausedAt = this.clock.monotonic();
    this.disarm();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.pausedTotal += this.clock.monotonic() - this.pausedAt;
    this.pausedAt = null;
    this.arm();
  }

  /** Drops every pending action for good. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.disarm();
  }

  private disarm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.disarm();
    if (this.origin === null || this.pausedAt !== null || this.stopped || this.queue.length === 0) return;
    const next = Math.min(...this.queue.map((d) => d.at));
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, next - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    const due = this.queue.filter((d) => d.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.queue = this.queue.filter((d) => d.at > now);
    for (const d of due) d.run();
    this.arm();
  }
}
