import { mulberry32, poisson } from "../../common/random.js";
import { nearestRank } from "./percentiles.js";

/** A 30-day month, the unit in which availability promises are usually written. */
export const MONTH_MS = 30 * 24 * 60 * 60 * 1000;

export interface ProjectionInput {
  readonly kind: string;
  /** Assumed occurrences per month (scenario input). */
  readonly perMonth: number;
  /** Measured downtime per occurrence (ms). */
  readonly downtimeMs: number;
}

export interface MonthlyProjection {
  readonly sloTarget: number;
  readonly months: number;
  readonly seed: number;
  readonly inputs: readonly ProjectionInput[];
  readonly meanAvailability: number;
  /** 5th percentile (nearest rank) of simulated monthly availability: a bad month. */
  readonly p5Availability: number;
  /** Share of simulated months whose availability met the target. */
  readonly probabilityMeetingSlo: number;
}

/**
 * What a measured fault costs over a month: simulate `months` months in which each fault kind
 * occurs Poisson(perMonth) times, each occurrence costing its measured downtime, and the
 * service is otherwise up. Seeded, so the same inputs give the same numbers. A "99.9%"
 * promise then reads as "meets 99.9% in X% of months", which a single run cannot show.
 */
export function projectMonthly(
  inputs: readonly ProjectionInput[],
  sloTarget: number,
  months: number,
  seed: number,
): MonthlyProjection {
  if (!Number.isInteger(months) || months < 1)
    throw new RangeError(`months must be a positive integer, got ${months}`);
  const random = mulberry32(seed);
  const availabilities = new Float64Array(months);
  let met = 0;
  let sum = 0;
  for (let m = 0; m < months; m++) {
    let downtime = 0;
    for (const input of inputs) downtime += poisson(input.perMonth, random) * input.downtimeMs;
    const a = Math.max(0, 1 - downtime / MONTH_MS);
    availabilities[m] = a;
    sum += a;
    if (a >= sloTarget) met++;
  }
  availabilities.sort();
  return {
    sloTarget,
    months,
    seed,
    inputs: inputs.map((i) => ({ ...i })),
    meanAvailability: Math.min(1, sum / months),
    p5Availability: nearestRank(availabilities, 5) as number,
    probabilityMeetingSlo: met / months,
  };
}

/** Mean measured downtime per occurrence of each fault kind. */
export function downtimeByKind(faults: readonly { kind: string; downtimeMs: number }[]): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const f of faults) {
    const s = sums.get(f.kind) ?? { total: 0, n: 0 };
    s.total += f.downtimeMs;
    s.n++;
    sums.set(f.kind, s);
  }
  return new Map([...sums].map(([k, s]) => [k, s.total / s.n]));
}
