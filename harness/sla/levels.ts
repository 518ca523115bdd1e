/**
 * The two levels every availability, uptime and recovery figure exists at (DESIGN.md "Two
 * levels of truth"): `answered` = any good answer (ok, degraded, minimal); `full` = served by
 * the primary model (ok only). A fallback answer is not full service, so `full` is the default.
 */
export const SERVICE_LEVELS_JUDGED = ["answered", "full"] as const;
export type JudgedLevel = (typeof SERVICE_LEVELS_JUDGED)[number];

export const DEFAULT_LEVEL: JudgedLevel = "full";

/** Whether a degraded (or minimal) answer counts as good at this level. */
export const degradedGoodAt = (level: JudgedLevel): boolean => level === "answered";

/**
 * The level an SLO judges: `level` if given, else the older synonym `degradedCountsAsGood`
 * (true = answered, false = full), else the default (full). The schema rejects the two set
 * inconsistently, so `level` winning here never hides a contradiction.
 */
export function sloLevel(spec: {
  readonly level?: JudgedLevel;
  readonly degradedCountsAsGood?: boolean;
}): JudgedLevel {
  if (spec.level !== undefined) return spec.level;
  if (spec.degradedCountsAsGood !== undefined) return spec.degradedCountsAsGood ? "answered" : "full";
  return DEFAULT_LEVEL;
}
