import { InvalidInputError, type InputIssue } from "../../common/errors.js";
import { deriveRandom, exponential, weightedPicker, type Random } from "../../common/random.js";
import type { RequestTemplate } from "./templates.js";

/**
 * The pure half of the load generator (config -> plan -> run, as k6's constant-arrival-rate
 * executor): when each request is meant to be sent and which template it uses. No clock,
 * no I/O: the same input and seed give the same schedule on every machine.
 *
 * Field names and units follow the scenario's `load` block after parsing (durations in ms),
 * so a parsed LoadSpec can be passed straight in.
 */
export interface StageInput {
  /** Stage length in ms. */
  readonly duration: number;
  /** Rate at the end of the stage (requests/s). */
  readonly rate: number;
  /** Linear ramp from the previous rate to `rate`; otherwise a step to `rate`. */
  readonly ramp?: boolean;
}

export interface LoadPlanInput {
  /** Base arrival rate in requests/s; also where the first ramp starts from. */
  readonly rate: number;
  /** Total length in ms; with stages it defaults to their sum (longer: the last rate holds). */
  readonly duration?: number;
  readonly stages?: readonly StageInput[];
  readonly mix: readonly RequestTemplate[];
  /** "constant": fixed gaps; "poisson": exponential gaps with the same mean (seeded). */
  readonly arrivals?: "constant" | "poisson";
  readonly seed: number;
}

/** A piece of the rate curve: rate goes linearly from r0 to r1 over [startMs, endMs). */
export interface RateSegment {
  readonly startMs: number;
  readonly endMs: number;
  readonly r0: number;
  readonly r1: number;
}

export interface LoadPlan {
  readonly segments: readonly RateSegment[];
  readonly durationMs: number;
  readonly mix: readonly RequestTemplate[];
  readonly arrivals: "constant" | "poisson";
  readonly seed: number;
  /** Requests the rate curve implies (its integral), before jitter and multipliers. */
  readonly expectedRequests: number;
  /** Highest rate anywhere in the plan (requests/s), for sizing connection pools. */
  readonly peakRate: number;
}

export function compileLoadPlan(input: LoadPlanInput): LoadPlan {
  const issues = validate(input);
  if (issues.length > 0) throw new InvalidInputError(issues);
  const segments = rateSegments(input);
  const durationMs = segments.length === 0 ? 0 : segments[segments.length - 1].endMs;
  let expected = 0;
  let peak = 0;
  for (const s of segments) {
    expected += ((s.r0 + s.r1) / 2) * ((s.endMs - s.startMs) / 1000);
    peak = Math.max(peak, s.r0, s.r1);
  }
  return {
    segments,
    durationMs,
    mix: input.mix,
    arrivals: input.arrivals ?? "constant",
    seed: input.seed,
    expectedRequests: expected,
    peakRate: peak,
  };
}

function validate(input: LoadPlanInput): InputIssue[] {
  const issues: InputIssue[] = [];
  const positive = (v: number | undefined, path: string, zeroOk: boolean): void => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
      issues.push({ path, message: `expected a finite number ${zeroOk ? ">= 0" : "> 0"}, found ${v}` });
    }
  };
  positive(input.rate, "load.rate", false);
  positive(input.duration, "load.duration", false);
  if (input.duration === undefined && (input.stages === undefined || input.stages.length === 0)) {
    issues.push({
      path: "load.duration",
      message: "required when there are no stages",
      hint: 'add duration: "60s"',
    });
  }
  input.stages?.forEach((s, i) => {
    positive(s.duration, `load.stages[${i}].duration`, true);
    positive(s.rate, `load.stages[${i}].rate`, true);
  });
  if (input.mix.length === 0)
    issues.push({ path: "load.mix", message: "needs at least one request template" });
  input.mix.forEach((t, i) => positive(t.weight, `load.mix[${i}].weight`, false));
  if (!Number.isInteger(input.seed))
    issues.push({ path: "seed", message: `expected an integer, found ${input.seed}` });
  return issues;
}

/**
 * The rate curve of a load block: the one place stages, ramps and a duration shorter or
 * longer than the stages become segments (`faultline plan` prints these, the generator runs them).
 */
export function rateSegments(input: Pick<LoadPlanInput, "rate" | "duration" | "stages">): RateSegment[] {
  const segments: RateSegment[] = [];
  let t = 0;
  let rate = input.rate;
  for (const s of input.stages ?? [{ duration: input.duration ?? 0, rate: input.rate }]) {
    if (s.duration > 0)
      segments.push({ startMs: t, endMs: t + s.duration, r0: s.ramp ? rate : s.rate, r1: s.rate });
    t += s.duration;
    rate = s.rate;
  }
  const total = input.duration ?? t;
  if (total > t) segments.push({ startMs: t, endMs: total, r0: rate, r1: rate });
  return truncate(segments, total);
}

function truncate(segments: RateSegment[], totalMs: number): RateSegment[] {
  const out: RateSegment[] = [];
  for (const s of segments) {
    if (s.startMs >= totalMs) break;
    if (s.endMs <= totalMs) {
      out.push(s);
      continue;
    }
    out.push({ ...s, endMs: totalMs, r1: rateAt(s, totalMs) });
  }
  return out;
}

function rateAt(s: RateSegment, tMs: number): number {
  const span = s.endMs - s.startMs;
  return span === 0 ? s.r0 : s.r0 + ((s.r1 - s.r0) * (tMs - s.startMs)) / span;
}

/** Requests (arrival credit) the curve yields over [a, b] inside one segment, at multiplier 1. */
function creditIn(s: RateSegment, a: number, b: number): number {
  return ((rateAt(s, a) + rateAt(s, b)) / 2) * ((b - a) / 1000);
}

const END_EPSILON_MS = 1e-6;

/**
 * Intended send times, one at a time, in ms from the start of the run. Each arrival consumes
 * one unit of "credit" (constant arrivals) or an Exp(1) amount (Poisson), and credit accrues
 * at rate x multiplier; so the k-th send time is where the integral of the rate reaches the
 * k-th credit mark. Solving it analytically per segment (no time-stepping) keeps the error at
 * a few ulps per arrival: far below a microsecond even for millions of requests.
 *
 * `setRateMultiplier` (the load-burst fault) changes the rate from a given instant on and
 * re-times the arrival most recently handed out if it lies after that instant. (If that
 * arrival was already due before the instant, the new multiplier applies from it on: at most
 * one gap early, and the arrival merge always holds the next arrival, so this is the rare case.)
 */
export class ArrivalSchedule {
  private readonly jitter: Random | null;
  private multiplier = 1;
  private segIndex = 0;
  /** Position from which the next arrival's credit is counted. */
  private pos = 0;
  /** The last arrival handed out: where its credit counting began and how much it needed. */
  private last: { from: number; need: number; at: number; seg: number } | null = null;
  private emitted = 0;
  private done = false;

  constructor(private readonly plan: LoadPlan) {
    this.jitter = plan.arrivals === "poisson" ? deriveRandom(plan.seed, "arrivals") : null;
  }

  get count(): number {
    return this.emitted;
  }

  get rateMultiplier(): number {
    return this.multiplier;
  }

  /** The next intended send time, or undefined when the plan is over. */
  next(): number | undefined {
    if (this.done) return undefined;
    // Constant arrivals start at 0; Poisson ones after an exponential gap like every other.
    const need = this.jitter ? exponential(this.jitter) : this.emitted === 0 ? 0 : 1;
    const from = this.pos;
    const seg = this.segIndex;
    const at = this.advance(need);
    // The run is [0, duration): an arrival on the end instant (up to float error) is not in it.
    if (at === undefined || at >= this.plan.durationMs - END_EPSILON_MS) {
      this.done = true;
      return undefined;
    }
    this.last = { from, need, at, seg };
    this.emitted++;
    return at;
  }

  /**
   * Multiplies the plan's rate by `m` from `atMs` on. Returns the new time of the arrival most
   * recently returned by next() if it was due after `atMs` (the caller reschedules it), or
   * undefined if it was unaffected, or +Infinity if it now falls outside the run (drop it).
   */
  setRateMultiplier(m: number, atMs: number): number | undefined {
    if (!(m > 0) || !Number.isFinite(m))
      throw new RangeError(`rate multiplier must be a finite number > 0, got ${m}`);
    const last = this.last;
    if (last === null || last.at <= atMs) {
      this.multiplier = m;
      return undefined;
    }
    // Credit accrued between the last count start and atMs at the old multiplier still counts.
    this.pos = last.from;
    this.segIndex = last.seg;
    const used = this.creditBetween(last.from, Math.max(atMs, last.from));
    this.pos = Math.max(atMs, last.from);
    this.multiplier = m;
    const at = this.advance(last.need - used);
    if (at === undefined || at >= this.plan.durationMs - END_EPSILON_MS) {
      // The re-timed arrival falls outside the run: it is withdrawn.
      this.done = true;
      this.last = null;
      this.emitted--;
      return Number.POSITIVE_INFINITY;
    }
    this.last = { ...last, at };
    return at;
  }

  private creditBetween(a: number, b: number): number {
    let credit = 0;
    for (let i = this.segIndex; i < this.plan.segments.length; i++) {
      const s = this.plan.segments[i];
      if (s.startMs >= b) break;
      const lo = Math.max(a, s.startMs);
      const hi = Math.min(b, s.endMs);
      if (hi > lo) credit += creditIn(s, lo, hi) * this.multiplier;
      if (s.endMs >= b) this.segIndex = i;
    }
    return credit;
  }

  /** Walks segments from `pos` until `need` credit has accrued; returns that instant. */
  private advance(need: number): number | undefined {
    let remaining = need;
    const segments = this.plan.segments;
    while (this.segIndex < segments.length) {
      const s = segments[this.segIndex];
      const a = Math.max(this.pos, s.startMs);
      const available = creditIn(s, a, s.endMs) * this.multiplier;
      if (available >= remaining && available > 0) {
        const at = a + solveWithin(s, a, remaining / this.multiplier);
        this.pos = Math.min(at, s.endMs);
        return this.pos;
      }
      remaining -= available;
      this.pos = s.endMs;
      this.segIndex++;
    }
    return undefined;
  }
}

/**
 * Time d (ms) after `a` at which the credit integral reaches `c`:
 * r(a) d/1000 + slope d^2 / 2000 = c, solved in the cancellation-free form 2c / (r + sqrt(r^2 + 2 k c)).
 */
function solveWithin(s: RateSegment, a: number, c: number): number {
  if (c <= 0) return 0;
  const r = rateAt(s, a) / 1000; // requests per ms
  const span = s.endMs - s.startMs;
  const k = span === 0 ? 0 : (s.r1 - s.r0) / 1000 / span; // change of rate per ms, per ms
  if (k === 0) return c / r;
  const disc = Math.max(0, r * r + 2 * k * c);
  return (2 * c) / (r + Math.sqrt(disc));
}

/** All intended send times of a plan at multiplier 1 (for `faultline plan` and tests). */
export function intendedTimes(plan: LoadPlan, limit = 10_000_000): Float64Array {
  const schedule = new ArrivalSchedule(plan);
  const out: number[] = [];
  for (let t = schedule.next(); t !== undefined && out.length < limit; t = schedule.next()) out.push(t);
  return Float64Array.from(out);
}

/** Template index for each request in arrival order, independent of timing and multipliers. */
export function templatePicker(plan: LoadPlan): () => number {
  if (plan.mix.length === 1) return () => 0;
  return weightedPicker(
    plan.mix.map((t) => t.weight ?? 1),
    deriveRandom(plan.seed, "mix"),
  );
}
