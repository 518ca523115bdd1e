import type { RunRecord } from "../harness/record/schema.js";
import { isGood, OUTCOMES } from "../common/outcome.js";
import { availability } from "../harness/sla/outcomes.js";
import { formatCount, formatMs, formatRatio } from "./format.js";

/**
 * What a load that honoured Retry-After did, and how the headline availability counted it, as
 * plain text shared by the HTML and Markdown renderers (each escapes it for its own markup).
 * Both read optional record fields: a record without them gets no text at all, so older
 * records render exactly as before.
 */

export type RetryStats = NonNullable<RunRecord["retries"]>;

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

const FAILED = OUTCOMES.filter((o) => !isGood(o, true));

/** Retries answered neither ok nor degraded (shed, error, timeout, conn). */
export function failedRetries(r: RetryStats): number {
  return FAILED.reduce((sum, o) => sum + r.outcomes[o], 0);
}

/** "2 failed (1 shed, 1 timeout)": the failed retries with the outcomes that make them up. */
export function failedRetriesText(r: RetryStats): string {
  const bad = FAILED.filter((o) => r.outcomes[o] > 0);
  const detail = bad.length === 0 ? "" : ` (${bad.map((o) => `${r.outcomes[o]} ${o}`).join(", ")})`;
  return `${formatCount(failedRetries(r))} failed${detail}`;
}

/**
 * "Client honoured Retry-After: 9 shed answers retried at the time named (wait p50 1.00 s,
 * max 1.50 s); retries answered: 6 ok, 1 degraded, 2 failed (1 shed, 1 timeout); 2 shed answers
 * without a usable Retry-After; 1 retry not sent (due over 60 s after the load ended, or the run stopped first)". Null without retries.
 */
export function retriesText(record: RunRecord): string | null {
  const r = record.retries;
  if (r === undefined) return null;
  const w = r.retryAfterMs;
  const waits = w.count === 0 ? "" : ` (wait p50 ${formatMs(w.p50)}, max ${formatMs(w.max)})`;
  return [
    `Client honoured Retry-After: ${plural(r.sent, "shed answer", "shed answers")} retried at the time named${waits}`,
    `retries answered: ${r.outcomes.ok} ok, ${r.outcomes.degraded} degraded, ${failedRetriesText(r)}`,
    `${plural(r.withoutRetryAfter, "shed answer", "shed answers")} without a usable Retry-After`,
    `${plural(r.unsent, "retry", "retries")} not sent (due over 60 s after the load ended, or the run stopped first)`,
  ].join("; ");
}

/**
 * Availability with every attempt counted (each retry and the shed answer it repeats), from
 * the record's totals, judged the way the headline judges degraded answers.
 */
export function everyAttemptAvailability(record: RunRecord): number | null {
  return availability(record.totals, record.availability.degradedCountsAsGood);
}

/** "each request by its final attempt; every attempt: 93.301%" when the headline counts final attempts; else null. */
export function availabilityBasisText(record: RunRecord): string | null {
  if (record.availability.attempts !== "final") return null;
  return `each request by its final attempt; every attempt: ${formatRatio(everyAttemptAvailability(record))}`;
}
