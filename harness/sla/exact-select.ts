import { nearestRankIndex, type PercentileSummary } from "./percentiles.js";

/**
 * Exact nearest-rank percentiles of a stream of numbers that is too long to hold, read in
 * several passes with memory independent of its length (no sketch, no error bound: the
 * answers are the values `summarize` would return from the sorted whole).
 *
 * Each double is mapped to a 64-bit key that sorts as the numbers do (the sign-flip trick on
 * its IEEE 754 bits), and the rank is found 16 bits of key at a time: pass 1 counts values per
 * top-16-bit bucket (65,536 counters) and picks the bucket holding each wanted rank; the next
 * pass either collects that bucket's values, when there are at most COLLECT_MAX of them, and
 * sorts them, or counts its next 16 bits. At most four passes, usually two: a bucket of pass 2
 * spans about one millionth of its value, so it rarely holds many values. A stream of at most
 * COLLECT_MAX values is collected in pass 1 and sorted, exactly as `summarize` does.
 */
export const COLLECT_MAX = 1 << 18;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Sortable key of v, high and low 32 bits (written to KEY to avoid allocating per value). */
const KEY = { hi: 0, lo: 0 };
function keyOf(v: number): void {
  f64[0] = v;
  const hi = u32[1];
  const lo = u32[0];
  if (hi & 0x80000000) {
    KEY.hi = ~hi >>> 0;
    KEY.lo = ~lo >>> 0;
  } else {
    KEY.hi = (hi | 0x80000000) >>> 0;
    KEY.lo = lo;
  }
}

function valueOfKey(hi: number, lo: number): number {
  if (hi & 0x80000000) {
    u32[1] = (hi & 0x7fffffff) >>> 0;
    u32[0] = lo;
  } else {
    u32[1] = ~hi >>> 0;
    u32[0] = ~lo >>> 0;
  }
  return f64[0];
}

function bracketAdd(b: Bracket, v: number): void {
  if (v < b.lo) {
    b.below++;
    return;
  }
  if (v > b.hi) return;
  let values = b.values as Float64Array;
  if (b.filled === values.length) {
    if (b.filled >= BRACKET_MAX) {
      b.values = null;
      return;
    }
    const grown = new Float64Array(b.filled * 2);
    grown.set(values);
    values = grown;
    b.values = grown;
  }
  values[b.filled++] = v;
}

/** The 16-bit digit of the current KEY at depth d (0 = most significant). */
function digit(d: number): number {
  switch (d) {
    case 0:
      return KEY.hi >>> 16;
    case 1:
      return KEY.hi & 0xffff;
    case 2:
      return KEY.lo >>> 16;
    default:
      return KEY.lo & 0xffff;
  }
}

/** Whether the current KEY starts with the digits already fixed at depth d. */
function matches(d: number, hi: number, lo: number): boolean {
  switch (d) {
    case 0:
      return true;
    case 1:
      return KEY.hi >>> 16 === hi >>> 16;
    case 2:
      return KEY.hi === hi;
    default:
      return KEY.hi === hi && KEY.lo >>> 16 === lo >>> 16;
  }
}

interface Target {
  /** 1-based rank among all values. */
  readonly rank: number;
  /** Rank left to find inside the current bucket. */
  rest: number;
  value: number | null;
}

/** Values sharing a key prefix, and the targets whose rank lies among them. */
interface Group {
  readonly depth: number;
  readonly hi: number;
  readonly lo: number;
  readonly size: number;
  readonly targets: Target[];
  counts: Uint32Array | null;
  collected: Float64Array | null;
  filled: number;
}

/** Values at most this many per bracket are collected; beyond it the bracket is dropped. */
const BRACKET_MAX = 1 << 20;

/** A guessed value range for one percentile, checked in the first pass (see `setBrackets`). */
interface Bracket {
  readonly lo: number;
  readonly hi: number;
  below: number;
  values: Float64Array | null;
  filled: number;
}

/** Exact P50/P95/P99/max of one stream of values (NaN ignored), read in passes. */
export class ExactSummary {
  private count = 0;
  private groups: Group[] | null = null;
  private readonly first: Group;
  private done = false;
  private firstPass = true;
  private brackets: (Bracket | null)[] = [];
  private maxHi = -1;
  private maxLo = -1;
  private maxValue = Number.NaN;

  /** `collectMax` below COLLECT_MAX only to exercise the multi-pass path in tests. */
  constructor(private readonly collectMax = COLLECT_MAX) {
    this.first = {
      depth: 0,
      hi: 0,
      lo: 0,
      size: 0,
      targets: [],
      counts: new Uint32Array(65536),
      collected: new Float64Array(1024),
      filled: 0,
    };
  }

  /** Whether another pass over the same values is needed. */
  get needsPass(): boolean {
    return !this.done;
  }

  /** Feeds one value of the current pass; every pass must feed the same values in any order. */
  add(v: number): void {
    if (this.done || Number.isNaN(v)) return;
    keyOf(v);
    if (this.firstPass) {
      this.addFirst(v);
      return;
    }
    for (const g of this.groups as Group[]) {
      if (!matches(g.depth, g.hi, g.lo)) continue;
      if (g.collected !== null) g.collected[g.filled++] = v;
      else (g.counts as Uint32Array)[digit(g.depth)]++;
    }
  }

  private addFirst(v: number): void {
    const g = this.first;
    this.count++;
    (g.counts as Uint32Array)[KEY.hi >>> 16]++;
    if (KEY.hi > this.maxHi || (KEY.hi === this.maxHi && KEY.lo > this.maxLo)) {
      this.maxHi = KEY.hi;
      this.maxLo = KEY.lo;
      this.maxValue = v;
    }
    for (const b of this.brackets) if (b !== null && b.values !== null) bracketAdd(b, v);
    if (g.collected === null) return;
    if (g.filled >= this.collectMax) {
      g.collected = null;
      return;
    }
    if (g.filled === g.collected.length) {
      const grown = new Float64Array(g.filled * 2);
      grown.set(g.collected);
      g.collected = grown;
    }
    g.collected[g.filled++] = v;
  }

  /** Closes a pass: resolves what it can and plans the next pass. */
  endPass(): void {
    if (this.done) return;
    if (this.firstPass) {
      this.firstPass = false;
      const n = this.count;
      const ranks =
        n === 0 ? [] : [nearestRankIndex(n, 50), nearestRankIndex(n, 95), nearestRankIndex(n, 99), n];
      const targets = ranks.map((rank): Target => ({ rank, rest: rank, value: null }));
      this.targets = targets;
      const g = this.first;
      if (g.collected !== null) {
        const sorted = g.collected.subarray(0, g.filled).sort();
        for (const t of targets) t.value = sorted[t.rank - 1];
        this.done = true;
        return;
      }
      this.resolveBrackets(targets);
      this.plan([{ ...g, targets: targets.filter((t) => t.value === null) }]);
      return;
    }
    const next: Group[] = [];
    for (const g of this.groups as Group[]) {
      if (g.collected !== null) {
        const sorted = g.collected.subarray(0, g.filled).sort();
        for (const t of g.targets) t.value = sorted[t.rest - 1];
      } else next.push(g);
    }
    this.plan(next);
  }

  private targets: Target[] = [];

  /**
   * Guesses, before the first pass, of where P50, P95 and P99 lie (from a sample of the
   * values): the first pass also counts the values below each range and collects those inside
   * it, so a guess that holds gives the exact answer in that one pass, and the maximum is
   * tracked exactly in it too. A wrong guess costs nothing but speed: that percentile goes on
   * through the radix passes. Any range gives the same answers.
   */
  setBrackets(ranges: readonly ({ readonly lo: number; readonly hi: number } | null)[]): void {
    if (!this.firstPass || this.count > 0) throw new Error("setBrackets before the first value");
    this.brackets = ranges.map((r) =>
      r === null || !(r.lo <= r.hi)
        ? null
        : { lo: r.lo, hi: r.hi, below: 0, values: new Float64Array(1024), filled: 0 },
    );
  }

  private resolveBrackets(targets: readonly Target[]): void {
    const max = targets[3];
    if (max !== undefined) max.value = this.maxValue;
    this.brackets.forEach((b, i) => {
      const t = targets[i];
      if (b === null || b.values === null || t === undefined || i > 2) return;
      if (t.rank <= b.below || t.rank > b.below + b.filled) return;
      const sorted = b.values.subarray(0, b.filled).sort();
      t.value = sorted[t.rank - b.below - 1];
    });
    this.brackets = [];
  }

  /** Groups whose digit counts are known become the next pass's (finer) groups. */
  private plan(counted: readonly Group[]): void {
    const groups = new Map<string, Group>();
    for (const g of counted) {
      const counts = g.counts as Uint32Array;
      for (const t of g.targets) {
        let below = 0;
        let d = 0;
        while (below + counts[d] < t.rest) below += counts[d++];
        t.rest -= below;
        const size = counts[d];
        const shift = (3 - g.depth) * 16;
        // The prefix with this digit fixed.
        let hi = g.hi;
        let lo = g.lo;
        if (g.depth === 0) hi = (d << 16) >>> 0;
        else if (g.depth === 1) hi = (g.hi | d) >>> 0;
        else if (g.depth === 2) lo = (d << 16) >>> 0;
        else lo = (g.lo | d) >>> 0;
        if (shift === 0) {
          // All 64 bits known: the value itself.
          t.value = valueOfKey(hi, lo);
          continue;
        }
        const key = `${g.depth + 1}:${hi}:${lo}`;
        let child = groups.get(key);
        if (child === undefined) {
          const collect = size <= this.collectMax;
          child = {
            depth: g.depth + 1,
            hi,
            lo,
            size,
            targets: [],
            counts: collect ? null : new Uint32Array(65536),
            collected: collect ? new Float64Array(size) : null,
            filled: 0,
          };
          groups.set(key, child);
        }
        child.targets.push(t);
      }
    }
    this.groups = [...groups.values()];
    if (this.groups.length === 0) this.done = true;
  }

  /** The summary; call when no pass is needed any more. */
  result(): PercentileSummary {
    if (!this.done) throw new Error("ExactSummary.result() before its last pass");
    const n = this.count;
    if (n === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
    const [p50, p95, p99, max] = this.targets.map((t) => t.value);
    return { count: n, p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null, max: max ?? null };
  }
}
