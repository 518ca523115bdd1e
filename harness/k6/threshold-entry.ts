/** What one SLO becomes in an exported k6 script: a threshold on a k6 metric, or a note why not. */
export type ThresholdEntry =
  { readonly metric: string; readonly expression: string } | { readonly note: string };

/** The script's Rate metric of full-quality answers (ok, not degraded), per request. */
export const FULL_RATE_METRIC = "faultline_full";

/** Prints a ratio without float noise: 1 - 0.999 is 0.0010000000000000009 in binary. */
export function formatRatio(x: number): string {
  return String(Number(x.toPrecision(12)));
}
