/**
 * The restart policy a container runtime applies to a crashed process (Docker's `always`:
 * 100 ms, doubling, capped; the delay resets once the process stayed up long enough). Pure, so
 * its sequence is tested exactly.
 */
export interface RestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** A process that ran at least this long restarts after the initial delay again. */
  readonly resetAfterMs: number;
}

export const CONTAINER_LIKE_POLICY: RestartPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  multiplier: 2,
  resetAfterMs: 10_000,
};

/** Delay before restart number `consecutive` (1 = first restart after a healthy stretch). */
export function restartDelayMs(policy: RestartPolicy, consecutive: number): number {
  const raw = policy.initialDelayMs * policy.multiplier ** Math.max(0, consecutive - 1);
  return Math.min(policy.maxDelayMs, raw);
}

/** How many consecutive crashes count toward the backoff, given how long the last run lasted. */
export function nextConsecutive(policy: RestartPolicy, previous: number, uptimeMs: number): number {
  return uptimeMs >= policy.resetAfterMs ? 1 : previous + 1;
}
