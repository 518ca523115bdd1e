/**
 * Seeded randomness for everything the harness decides at random (arrival jitter, request
 * mix, fault parameters, Monte Carlo months). Same seed, same sequence, on every machine:
 * a run can be replayed from the seed stored in its record.
 *
 * mulberry32: 32-bit state, passes the usual statistical batteries for this use, and is a
 * few lines of integer arithmetic (no dependency, identical in every JS engine).
 */
export type Random = () => number;

/** A generator of floats in [0, 1) for a 32-bit seed (other numbers are truncated to 32 bits). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An independent stream derived from one seed, so that adding draws to one consumer (say,
 * arrival jitter) never shifts another's sequence (the request mix). `stream` names the consumer.
 */
export function deriveRandom(seed: number, stream: string): Random {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < stream.length; i++) {
    h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  }
  return mulberry32(h);
}

/** Exponential variate with mean 1 (inter-arrival credit of a Poisson process). */
export function exponential(random: Random): number {
  // 1 - u lies in (0, 1], so the log is finite.
  return -Math.log(1 - random());
}

/**
 * Picks indices with probability proportional to `weights` (non-negative, sum > 0), by a
 * cumulative table and binary search: O(log n) per pick.
 */
export function weightedPicker(weights: readonly number[], random: Random): () => number {
  const cumulative = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be a finite number >= 0`);
    sum += w;
    cumulative[i] = sum;
  });
  if (!(sum > 0)) throw new RangeError("weights must sum to more than 0");
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x < cumulative[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** Poisson variate by inversion (exact; fine for the small means used in monthly projections). */
export function poisson(mean: number, random: Random): number {
  if (!(mean >= 0) || mean > 500) throw new RangeError(`poisson mean must be in [0, 500], got ${mean}`);
  const u = random();
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  while (u > cdf && p > 0) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}
