import { nearestRankIndex } from "./percentiles.js";
import type { Interval } from "./health.js";

/** What a streaming health check needs of one row. */
export interface HealthRules {
  /** Good by outcome code at this level. */
  readonly good: readonly boolean[];
  readonly threshold: number;
  readonly latencySloMs?: number;
}

/**
 * `recoveryPoint` (health.ts) computed from rows fed in intended order, holding only the rows
 * from the current candidate to the end of its stability period (rate x stability rows, not
 * the run). Same definition, same comparisons, so the same answer: the intended time of the
 * first healthy row at or after `fromMs` whose k windows [c + jW, c + (j+1)W) are all healthy,
 * or null when no candidate has a full stability period before the run ends.
 */
export class RecoveryFinder {
  private t: Float64Array<ArrayBuffer> = new Float64Array(1024);
  /** Good and slow rows before each buffered row, counted since the finder started. */
  private goodBefore: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private slowBefore: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  private goodTotal = 0;
  private slowTotal = 0;
  /** Buffer index of the candidate, or -1 while looking for one. */
  private cand = -1;
  /** Buffer index from which the next candidate is looked for. */
  private scan = 0;
  private readonly k: number;
  private readonly limit: number;
  /** undefined while undecided. */
  result: number | null | undefined = undefined;

  constructor(
    private readonly fromMs: number,
    private readonly rules: HealthRules,
    private readonly windowMs: number,
    stabilityMs: number,
    private readonly durationMs: number,
  ) {
    this.k = Math.max(1, Math.ceil(stabilityMs / windowMs - 1e-9));
    this.limit = rules.latencySloMs ?? Number.POSITIVE_INFINITY;
  }

  /** Feeds the next row: its intended time, outcome code and intended-time latency. */
  add(t: number, code: number, latency: number): void {
    if (this.result !== undefined || t < this.fromMs) return;
    if (this.tail === this.t.length) this.makeRoom();
    const i = this.tail++;
    this.t[i] = t;
    this.goodBefore[i] = this.goodTotal;
    this.slowBefore[i] = this.slowTotal;
    if (this.rules.good[code]) this.goodTotal++;
    if (latency > this.limit) this.slowTotal++;
    this.advance(false);
  }

  /** No more rows: decide with what was seen. */
  end(): void {
    if (this.result === undefined) this.advance(true);
    if (this.result === undefined) this.result = null;
  }

  private rowHealthy(i: number): boolean {
    const good = (i + 1 < this.tail ? this.goodBefore[i + 1] : this.goodTotal) - this.goodBefore[i];
    const slow = (i + 1 < this.tail ? this.slowBefore[i + 1] : this.slowTotal) - this.slowBefore[i];
    return good === 1 && slow === 0;
  }

  private advance(final: boolean): void {
    const span = this.k * this.windowMs;
    for (;;) {
      if (this.cand < 0) {
        while (this.scan < this.tail && !this.rowHealthy(this.scan)) this.scan++;
        if (this.scan === this.tail) {
          // Keep rows sharing the last time: a later candidate at that time counts them.
          const last = this.tail > this.head ? this.t[this.tail - 1] : 0;
          while (this.head < this.tail && this.t[this.head] < last) this.head++;
          return;
        }
        this.cand = this.scan;
        const start = this.t[this.cand];
        while (this.head < this.cand && this.t[this.head] < start) this.head++;
        if (start + span > this.durationMs + 1e-9) {
          this.result = null;
          return;
        }
      }
      const start = this.t[this.cand];
      if (!final && this.t[this.tail - 1] < start + span) return;
      if (this.stable(start)) {
        this.result = start;
        return;
      }
      this.scan = this.cand + 1;
      this.cand = -1;
    }
  }

  private stable(start: number): boolean {
    for (let j = 0; j < this.k; j++) {
      if (!this.healthy(start + j * this.windowMs, start + (j + 1) * this.windowMs)) return false;
    }
    return true;
  }

  /** First buffered index with t >= x (tail when none). */
  private lowerBound(x: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private before(arr: Float64Array, total: number, i: number): number {
    return i < this.tail ? arr[i] : total;
  }

  private healthy(a: number, b: number): boolean {
    const lo = this.lowerBound(a);
    const hi = this.lowerBound(b);
    const n = hi - lo;
    if (n === 0) return true;
    const good = this.before(this.goodBefore, this.goodTotal, hi) - this.goodBefore[lo];
    if (good / n < this.rules.threshold) return false;
    if (this.rules.latencySloMs === undefined) return true;
    const slow = this.before(this.slowBefore, this.slowTotal, hi) - this.slowBefore[lo];
    return n - slow >= nearestRankIndex(n, 95);
  }

  /** Drops rows before head (compacting) or grows the buffer. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    if (this.head > 0 && live <= this.t.length / 2) {
      this.t.copyWithin(0, this.head, this.tail);
      this.goodBefore.copyWithin(0, this.head, this.tail);
      this.slowBefore.copyWithin(0, this.head, this.tail);
    } else {
      const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(a.length * 2);
        b.set(a.subarray(this.head, this.tail));
        return b;
      };
      this.t = grow(this.t);
      this.goodBefore = grow(this.goodBefore);
      this.slowBefore = grow(this.slowBefore);
    }
    if (this.cand >= 0) this.cand -= this.head;
    this.scan -= this.head;
    this.tail = live;
    this.head = 0;
  }
}

/** `downtimeIntervals` (health.ts) from rows fed in order: O(1) state besides its answer. */
export class DowntimeTracker {
  private start: number | null = null;
  private readonly limit: number;
  readonly intervals: Interval[] = [];

  constructor(private readonly rules: HealthRules) {
    this.limit = rules.latencySloMs ?? Number.POSITIVE_INFINITY;
  }

  add(t: number, code: number, latency: number): void {
    const bad = !(this.rules.good[code] === true && !(latency > this.limit));
    if (bad && this.start === null) this.start = t;
    if (!bad && this.start !== null) {
      this.intervals.push({ startMs: this.start, endMs: t });
      this.start = null;
    }
  }

  end(durationMs: number): Interval[] {
    if (this.start !== null)
      this.intervals.push({ startMs: this.start, endMs: Math.max(this.start, durationMs) });
    this.start = null;
    return this.intervals;
  }
}
