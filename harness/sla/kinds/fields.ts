import { z } from "zod";
import type { RawIssue } from "../../scenario/semantic.js";
import type { JudgedLevel } from "../levels.js";

/** Schema pieces and wording several SLO kinds share (each kind's own file holds the rest). */

export { positiveInt, ratio } from "../../scenario/numbers.js";

export const sloBase = { id: z.string().min(1).optional() };
export const faultScope = z
  .string()
  .optional()
  .meta({ description: "Fault id; omit to apply to every fault." });

/**
 * Service level an SLO judges (harness/sla/levels.ts): answered = any good answer (ok,
 * degraded, minimal); full = served by the primary model (ok only). Default full: a fallback
 * answer is not full service. `degradedCountsAsGood` stays accepted as the older synonym.
 */
export const level = z.enum(["answered", "full"]).optional().meta({
  description:
    "answered: any good answer counts (ok, degraded, minimal); full: only answers served by the primary model count. Default full (a fallback answer is not full service). Synonym: degradedCountsAsGood (true = answered, false = full).",
  default: "full",
});
export const degradedSynonym = z
  .boolean()
  .optional()
  .meta({ description: "Older synonym of level: true = answered, false = full. Prefer level." });
export const levelsAgree = (v: {
  level?: "answered" | "full" | undefined;
  degradedCountsAsGood?: boolean | undefined;
}): boolean =>
  v.level === undefined ||
  v.degradedCountsAsGood === undefined ||
  (v.level === "answered") === v.degradedCountsAsGood;
export const levelConflict = {
  error:
    "level and degradedCountsAsGood disagree: level: answered means degradedCountsAsGood: true, level: full means false; set only level",
  path: ["level"],
};

export const levelName = (l: JudgedLevel): string => (l === "full" ? "full service" : "answered");

export const pct = (r: number): string => `${+(r * 100).toFixed(4)}%`;

/** An SLO judged per fault: the scenario needs a fault, and a named one must exist. */
export function faultScopeIssues(
  kind: string,
  fault: string | undefined,
  i: number,
  faultIds: ReadonlySet<string>,
): RawIssue[] {
  if (faultIds.size === 0)
    return [
      {
        path: ["slos", i, "kind"],
        message: `"${kind}" needs at least one fault, found none`,
        hint: "add a fault or remove this SLO",
      },
    ];
  if (fault !== undefined && !faultIds.has(fault))
    return [
      {
        path: ["slos", i, "fault"],
        message: `unknown fault id "${fault}"`,
        hint: `one of: ${[...faultIds].join(", ")}`,
      },
    ];
  return [];
}

/** The k6 note of a kind that needs fault windows or per-window series. */
export const needsFaultWindows = (name: string, kind: string): { readonly note: string } => ({
  note: `${name}: ${kind} skipped (needs fault windows; faultline evaluates it)`,
});
