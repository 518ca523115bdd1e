import type { LoadSnapshot, SecondCounts } from "../load/index.js";

const HISTORY = 30;
const RATE_WINDOW_MS = 2000;

/**
 * What the dashboard remembers between reads of the load's snapshot (which only keeps the last
 * 10 seconds): every completed second (for live uptime), one P99 per second (sparkline), and
 * recent send counts (achieved rate). Fed on the dashboard's period, O(1) per read.
 */
export class LiveTracker {
  readonly seconds: SecondCounts[] = [];
  private readonly p99s: (number | null)[] = [];
  private lastSecond = -1;
  private readonly sends: { t: number; sent: number }[] = [];

  observe(snap: LoadSnapshot): void {
    const current = Math.floor(snap.elapsedMs / 1000);
    for (const s of snap.lastSeconds) {
      if (s.second < current && s.second > this.lastSecond) {
        this.seconds.push(s);
        this.lastSecond = s.second;
        this.p99s.push(snap.recentLatency.p99);
        if (this.p99s.length > HISTORY) this.p99s.shift();
      }
    }
    this.sends.push({ t: snap.elapsedMs, sent: snap.scheduled - snap.queued });
    while (this.sends.length > 2 && snap.elapsedMs - this.sends[1].t >= RATE_WINDOW_MS) this.sends.shift();
  }

  /** Requests/s sent between the oldest kept read (about 2 s ago) and the newest. */
  achievedRate(): number {
    const first = this.sends[0];
    const last = this.sends[this.sends.length - 1];
    if (first === undefined || last === undefined || last.t - first.t < 500) return 0;
    return ((last.sent - first.sent) * 1000) / (last.t - first.t);
  }

  p99History(): readonly (number | null)[] {
    return this.p99s;
  }

  /** Outcomes of the last whole second seen. */
  lastWhole(): SecondCounts | undefined {
    return this.seconds[this.seconds.length - 1];
  }
}
