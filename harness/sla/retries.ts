import { emptyCounts, outcomeFromCode, type OutcomeCounts } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import { countRows, goodOf, totalOf } from "./outcomes.js";
import { summarize, type PercentileSummary } from "./percentiles.js";

/** One retry: its row, the shed row it repeats, and the wait that shed answer asked for (ms). */
export interface RetryLink {
  readonly row: number;
  readonly of: number;
  readonly retryAfterMs: number;
}

/** What a load that honoured Retry-After did (harness/load LoadOptions.honourRetryAfter). */
export interface RetryLog {
  /** In the order the retries were sent (so by row). */
  readonly links: readonly RetryLink[];
  /** Shed answers (not themselves retries) with no Retry-After a client could act on. */
  readonly withoutRetryAfter: number;
  /** Retries not sent: due more than 60 s after the plan's end, or the load was stopped first. */
  readonly unsent: number;
}

/** The retries as the run record states them. */
export interface RetrySummary {
  readonly sent: number;
  /** Outcomes of the retries themselves. */
  readonly outcomes: OutcomeCounts;
  readonly withoutRetryAfter: number;
  readonly unsent: number;
  /** The waits the shed answers asked for, of the retries sent. */
  readonly retryAfterMs: PercentileSummary;
}

export function summarizeRetries(c: RequestColumns, log: RetryLog): RetrySummary {
  const outcomes = emptyCounts();
  for (const l of log.links) outcomes[outcomeFromCode(c.outcome[l.row])]++;
  return {
    sent: log.links.length,
    outcomes,
    withoutRetryAfter: log.withoutRetryAfter,
    unsent: log.unsent,
    retryAfterMs: summarize(log.links.map((l) => l.retryAfterMs)),
  };
}

/**
 * Outcome counts with every retried shed answer left out, so each request counts once, by its
 * final attempt: what a client that honours Retry-After saw. Without retries, every row.
 */
export function finalAttemptCounts(c: RequestColumns, log: RetryLog | null): OutcomeCounts {
  const counts = countRows(c);
  for (const l of log?.links ?? []) counts[outcomeFromCode(c.outcome[l.of])]--;
  return counts;
}

/**
 * How accurate Retry-After was: good retries / (retries sent + shed answers that named no usable
 * wait, which a client could not retry on time). `attempts` is that denominator; ratio null
 * when it is 0. Retries never sent (due after the run) are in neither.
 */
export function retrySuccess(
  summary: RetrySummary,
  degradedCountsAsGood: boolean,
): { readonly ratio: number | null; readonly attempts: number; readonly good: number } {
  const good = goodOf(summary.outcomes, degradedCountsAsGood);
  const attempts = totalOf(summary.outcomes) + summary.withoutRetryAfter;
  return { ratio: attempts === 0 ? null : good / attempts, attempts, good };
}
