import { compileLoadPlan, type RateSegment } from "../load/plan.js";
import type { LoadSpec } from "../scenario/schema.js";

/**
 * The scenario's load as one k6 arrival-rate scenario. The rate curve comes from the same pure
 * plan the built-in generator uses (compileLoadPlan), so stages, steps and a duration that
 * cuts or extends them mean the same in both drivers.
 *
 * - No stages: `constant-arrival-rate`. Stages: `ramping-arrival-rate`, one k6 stage per plan
 *   segment; a step (ramp: false) is a 0 s stage to the new rate, as k6's docs suggest.
 * - k6 rates are integers per `timeUnit`: a fractional rate (2.5/s) is written as a whole
 *   number per 10, 100 or 1000 s (25 per 10s), the smallest unit that makes every rate whole.
 * - load-burst faults (rate x multiplier over a window) are baked into the rate curve: k6
 *   cannot change an arrival rate while it runs, so the burst is part of the script's stages.
 * - One VU holds one request in flight, so maxVUs = maxInFlight; preAllocatedVUs covers one
 *   second of the peak rate (k6 starts more, up to maxVUs, when answers are slower).
 */
export interface K6ConstantScenario {
  readonly executor: "constant-arrival-rate";
  readonly rate: number;
  readonly timeUnit: string;
  readonly duration: string;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  readonly gracefulStop: string;
}

export interface K6RampingScenario {
  readonly executor: "ramping-arrival-rate";
  readonly startRate: number;
  readonly timeUnit: string;
  readonly stages: readonly { readonly duration: string; readonly target: number }[];
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  readonly gracefulStop: string;
}

export type K6Scenario = K6ConstantScenario | K6RampingScenario;

/** k6 duration text for whole milliseconds ("12s", "250ms"). */
export function k6Duration(ms: number): string {
  const whole = Math.round(ms);
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

const UNITS = [1, 10, 100, 1000] as const;

/** A load-burst occurrence: the rate is multiplied over [startMs, endMs). */
export interface RateBurst {
  readonly startMs: number;
  readonly endMs: number;
  readonly multiplier: number;
}

function rateAt(s: RateSegment, t: number): number {
  const span = s.endMs - s.startMs;
  return span === 0 ? s.r0 : s.r0 + ((s.r1 - s.r0) * (t - s.startMs)) / span;
}

function splitAt(segments: readonly RateSegment[], t: number): RateSegment[] {
  return segments.flatMap((s) =>
    s.startMs < t && t < s.endMs
      ? [
          { ...s, endMs: t, r1: rateAt(s, t) },
          { ...s, startMs: t, r0: rateAt(s, t) },
        ]
      : [s],
  );
}

/** The rate curve with every burst applied (segments split at burst edges). */
export function applyBursts(segments: readonly RateSegment[], bursts: readonly RateBurst[]): RateSegment[] {
  let out = [...segments];
  for (const b of bursts) {
    out = splitAt(splitAt(out, b.startMs), b.endMs).map((s) =>
      s.startMs >= b.startMs && s.endMs <= b.endMs
        ? { ...s, r0: s.r0 * b.multiplier, r1: s.r1 * b.multiplier }
        : s,
    );
  }
  return out;
}

/** Smallest unit (s) making every rate a whole number per unit; 1000 s rounds what is left. */
export function timeUnitFor(rates: readonly number[]): number {
  const whole = (x: number): boolean => Math.abs(x - Math.round(x)) < 1e-9;
  return UNITS.find((u) => rates.every((r) => whole(r * u))) ?? 1000;
}

function segmentsToStages(segments: readonly RateSegment[], unit: number): K6RampingScenario["stages"] {
  const perUnit = (r: number): number => Math.round(r * unit);
  const stages: { ms: number; target: number; hold: boolean }[] = [];
  let current = perUnit(segments[0]?.r0 ?? 0);
  for (const s of segments) {
    const [from, to] = [perUnit(s.r0), perUnit(s.r1)];
    if (from !== current) stages.push({ ms: 0, target: from, hold: true });
    const last = stages[stages.length - 1];
    // Two holds at one rate in a row (a stage, then the duration's tail) are one k6 stage.
    if (from === to && last?.hold && last.ms > 0 && last.target === to) last.ms += s.endMs - s.startMs;
    else stages.push({ ms: s.endMs - s.startMs, target: to, hold: from === to });
    current = to;
  }
  return stages.map((s) => ({ duration: k6Duration(s.ms), target: s.target }));
}

export function k6ScenarioFor(load: LoadSpec, seed: number, bursts: readonly RateBurst[] = []): K6Scenario {
  const plan = compileLoadPlan({ ...load, seed });
  const segments = applyBursts(plan.segments, bursts);
  const rates = segments.flatMap((s) => [s.r0, s.r1]);
  const peak = Math.max(...rates);
  const unit = timeUnitFor(rates);
  const vus = {
    preAllocatedVUs: Math.min(load.maxInFlight, Math.max(1, Math.ceil(peak))),
    maxVUs: load.maxInFlight,
    // Requests still running at the end get their deadline to finish, as in the built-in driver.
    gracefulStop: k6Duration(load.deadline),
  };
  if (load.stages === undefined && bursts.length === 0) {
    return {
      executor: "constant-arrival-rate",
      rate: Math.round(load.rate * unit),
      timeUnit: `${unit}s`,
      duration: k6Duration(plan.durationMs),
      ...vus,
    };
  }
  return {
    executor: "ramping-arrival-rate",
    startRate: Math.round((segments[0]?.r0 ?? load.rate) * unit),
    timeUnit: `${unit}s`,
    stages: segmentsToStages(segments, unit),
    ...vus,
  };
}
