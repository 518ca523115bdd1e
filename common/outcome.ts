/**
 * Every request is classified exactly once (DESIGN.md, "Definitions the numbers rest on").
 * The numeric codes are what the compact per-request columns store; never renumber them.
 */
export const OUTCOMES = ["ok", "degraded", "shed", "error", "timeout", "conn"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const OUTCOME_CODE: { readonly [K in Outcome]: number } = {
  ok: 0,
  degraded: 1,
  shed: 2,
  error: 3,
  timeout: 4,
  conn: 5,
};

export function outcomeFromCode(code: number): Outcome {
  const o = OUTCOMES[code];
  if (o === undefined) throw new RangeError(`unknown outcome code ${code}`);
  return o;
}

/** Whether an outcome counts as good for availability. */
export function isGood(outcome: Outcome, degradedCountsAsGood: boolean): boolean {
  switch (outcome) {
    case "ok":
      return true;
    case "degraded":
      return degradedCountsAsGood;
    case "shed":
    case "error":
    case "timeout":
    case "conn":
      return false;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

export type OutcomeCounts = { [K in Outcome]: number };

export function emptyCounts(): OutcomeCounts {
  return { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 };
}
