import type { RunEvent } from "../record/schema.js";
import { requestsFileSource, type RequestsFileWriter } from "../record/requests-stream.js";
import type { RequestColumns } from "../sla/columns.js";
import { ExactSummary } from "../sla/exact-select.js";
import type { RetryLog } from "../sla/retries.js";
import { columnsSource, type RowSource } from "../sla/source.js";
import type { LoadPlan } from "./plan.js";
import type { RequestLog } from "./request-log.js";
import type { LoadResult } from "./types.js";

/** What a finished load knows besides its rows. */
export interface LoadTotals {
  readonly plan: LoadPlan;
  readonly templates: readonly string[];
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly maxInFlightHits: number;
  readonly expiredUnsent: number;
  readonly events: readonly RunEvent[];
  readonly stopped: boolean;
  readonly retries: RetryLog | null;
}

/**
 * The result of a finished load: its rows from memory, or (with `writer`) closed into the
 * requests file and read back from there, in which case `columns` throws.
 */
export function loadResult(log: RequestLog, writer: RequestsFileWriter | null, t: LoadTotals): LoadResult {
  let requests: RowSource;
  let columns: RequestColumns | null = null;
  if (writer !== null) {
    log.close();
    writer.finish();
    requests = requestsFileSource(writer.file);
  } else {
    columns = log.columns();
    requests = columnsSource(columns);
  }
  const { achievedRate, sendLagP99Ms } = sendStatsOf(requests);
  const file = writer?.file ?? null;
  const base = {
    requests,
    requestsFile: file,
    templates: t.templates,
    startedAtMs: t.startedAtMs,
    durationMs: t.durationMs,
    plannedDurationMs: t.plan.durationMs,
    targetRate: t.plan.durationMs > 0 ? t.plan.expectedRequests / (t.plan.durationMs / 1000) : 0,
    achievedRate,
    sendLagP99Ms,
    maxInFlightHits: t.maxInFlightHits,
    expiredUnsent: t.expiredUnsent,
    events: t.events,
    stopped: t.stopped,
    retries: t.retries,
  };
  if (columns !== null) return { ...base, columns };
  // A getter that names the fix, so code written for in-memory runs fails loudly, not with
  // an empty table.
  const streamed: Omit<LoadResult, "columns"> = base;
  return Object.defineProperty(streamed, "columns", {
    enumerable: false,
    get(): never {
      throw new Error(`this load streamed its rows to ${file}: read result.requests instead of columns`);
    },
  }) as unknown as LoadResult;
}

/** Achieved send rate and send-lag P99 of a finished log. */
export function sendStats(c: RequestColumns): { achievedRate: number; sendLagP99Ms: number | null } {
  return sendStatsOf(columnsSource(c));
}

/** `sendStats` over a row source, in passes with memory independent of its length. */
export function sendStatsOf(src: RowSource): { achievedRate: number; sendLagP99Ms: number | null } {
  const lags = new ExactSummary();
  let sent = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let firstPass = true;
  while (lags.needsPass) {
    src.forEachBlock(
      (c) => {
        for (let i = 0; i < c.length; i++) {
          const s = c.sent[i];
          if (Number.isNaN(s)) continue;
          lags.add(s - c.intended[i]);
          if (!firstPass) continue;
          sent++;
          if (s < first) first = s;
          if (s > last) last = s;
        }
      },
      ["intended", "sent"],
    );
    lags.endPass();
    firstPass = false;
  }
  const span = last - first;
  const achievedRate = sent > 1 && span > 0 ? (sent - 1) / (span / 1000) : 0;
  return { achievedRate, sendLagP99Ms: lags.result().p99 };
}
