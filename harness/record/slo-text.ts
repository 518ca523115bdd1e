import type { SloResult } from "./schema.js";

/*
 * An SLO's numbers as text, in its unit: the CLI summary and the claims page both write them
 * (each a reader of the run record, so the formatting lives with the record, not in either).
 */

/** A ratio as a percentage with three decimals; null is "-". */
export const pct = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(3)}%`);
/** Whole ms under a second, else seconds with two decimals; null is "-". */
export const msText = (v: number | null): string =>
  v === null ? "-" : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${Math.round(v)}ms`;

/** A measured value or bound of `s`, in its unit. */
export function valueText(s: SloResult, v: number): string {
  switch (s.unit) {
    case "ratio":
      return s.metric.startsWith("errorBudget") ? v.toFixed(3) : pct(v);
    case "ms":
      return msText(v);
    case "count":
      return String(v);
    default: {
      const never: never = s.unit;
      return never;
    }
  }
}

/** A margin of `s`: ratios in percentage points, error budgets and the rest as values. */
export function marginText(s: SloResult, m: number): string {
  if (s.unit === "ratio" && !s.metric.startsWith("errorBudget")) return `${+(m * 100).toFixed(4)} pp`;
  return valueText(s, m);
}
