import { OUTCOMES, emptyCounts, type OutcomeCounts } from "../../common/outcome.js";

const SECONDS = 60;
const RECENT = 1024;

export interface SecondCounts {
  /** Whole seconds since the run started (by completion time). */
  readonly second: number;
  readonly counts: OutcomeCounts;
}

export interface LiveLatency {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/**
 * Running counters for a dashboard, updated in O(1) per completed request; a snapshot costs
 * one sort of at most 1,024 numbers, so a listener can read it on its own period without
 * slowing the load loop. Latency here is from the intended send time, like everything else.
 */
export class LiveStats {
  private readonly perSecond = new Uint32Array(SECONDS * OUTCOMES.length);
  private readonly secondOf = new Float64Array(SECONDS).fill(-1);
  private readonly recent = new Float64Array(RECENT);
  private recentCount = 0;
  readonly totals: OutcomeCounts = emptyCounts();

  record(endMs: number, outcomeCode: number, latencyMs: number): void {
    const outcome = OUTCOMES[outcomeCode];
    if (outcome === undefined) return;
    this.totals[outcome]++;
    const second = Math.max(0, Math.floor(endMs / 1000));
    const slot = second % SECONDS;
    if (this.secondOf[slot] !== second) {
      this.secondOf[slot] = second;
      this.perSecond.fill(0, slot * OUTCOMES.length, (slot + 1) * OUTCOMES.length);
    }
    this.perSecond[slot * OUTCOMES.length + outcomeCode]++;
    this.recent[this.recentCount % RECENT] = latencyMs;
    this.recentCount++;
  }

  /** Counts for the last `n` whole seconds up to `nowMs`, oldest first (at most 60). */
  lastSeconds(nowMs: number, n: number): SecondCounts[] {
    const current = Math.floor(nowMs / 1000);
    const out: SecondCounts[] = [];
    for (let s = Math.max(0, current - Math.min(n, SECONDS) + 1); s <= current; s++) {
      const slot = s % SECONDS;
      const counts = emptyCounts();
      if (this.secondOf[slot] === s) {
        OUTCOMES.forEach((o, k) => (counts[o] = this.perSecond[slot * OUTCOMES.length + k]));
      }
      out.push({ second: s, counts });
    }
    return out;
  }

  /** Nearest-rank percentiles of the last 1,024 completed requests' latency. */
  recentLatency(): LiveLatency {
    const n = Math.min(this.recentCount, RECENT);
    if (n === 0) return { count: 0, p50: null, p95: null, p99: null };
    const sorted = this.recent.slice(0, n).sort();
    const at = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * n) - 1)];
    return { count: n, p50: at(50), p95: at(95), p99: at(99) };
  }
}
