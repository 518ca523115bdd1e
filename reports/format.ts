import type { SloResult } from "../harness/record/schema.js";

/**
 * Number formatting shared by every renderer, so HTML, Markdown, JUnit and compare show the
 * same text for the same value.
 */

export type Unit = SloResult["unit"];

/** 0.9995 -> "99.950%". Three decimals: a 99.9% SLO needs the third to be visible. */
export function formatRatio(value: number | null): string {
  return value === null ? "n/a" : `${(value * 100).toFixed(3)}%`;
}

/** Under a second in whole milliseconds, otherwise seconds with two decimals. */
export function formatMs(value: number | null): string {
  if (value === null) return "n/a";
  return Math.abs(value) < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export function formatCount(value: number | null): string {
  return value === null ? "n/a" : String(Math.round(value));
}

export function formatValue(value: number | null, unit: Unit): string {
  switch (unit) {
    case "ratio":
      return formatRatio(value);
    case "ms":
      return formatMs(value);
    case "count":
      return formatCount(value);
    default: {
      const never: never = unit;
      return never;
    }
  }
}

/** A margin is a difference: ratios in percentage points, always signed. */
export function formatMargin(margin: number | null, unit: Unit): string {
  if (margin === null) return "n/a";
  const sign = margin < 0 ? "-" : "+";
  const abs = Math.abs(margin);
  switch (unit) {
    case "ratio":
      return `${sign}${(abs * 100).toFixed(3)} pp`;
    case "ms":
      return `${sign}${formatMs(abs)}`;
    case "count":
      return `${sign}${formatCount(abs)}`;
    default: {
      const never: never = unit;
      return never;
    }
  }
}

/** "measured 97.000% vs bound >= 99.900% (missed by 2.900 pp)": the line CI and PRs show. */
export function describeSloOutcome(slo: SloResult): string {
  const head = `measured ${formatValue(slo.measured, slo.unit)} vs bound ${slo.comparator} ${formatValue(slo.bound, slo.unit)}`;
  if (slo.margin === null) return `${head} (not measured)`;
  const by = formatMargin(Math.abs(slo.margin), slo.unit).slice(1);
  return slo.passed ? `${head} (met with ${by} to spare)` : `${head} (missed by ${by})`;
}

/** Epoch milliseconds as ISO-8601 UTC. */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Relative milliseconds as "t+12.50 s". */
export function formatOffset(relMs: number): string {
  return `t+${(relMs / 1000).toFixed(2)} s`;
}
