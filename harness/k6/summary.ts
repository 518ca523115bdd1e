import { z } from "zod";
import { InvalidInputError } from "../../common/errors.js";
import { OUTCOMES, type Outcome } from "../../common/outcome.js";
import { columnsFromRows, type RequestColumns, type RequestRow } from "../sla/columns.js";
import type { K6Point, K6Points } from "./points.js";

/**
 * k6's output as faultline rows. Scripts exported by faultline emit one `faultline_request`
 * point per request (script-body.ts) carrying the outcome class, mix index and iteration; any
 * other script is read from its `http_req_duration` points, classified from the status and
 * error_code tags. Times become ms from the scenario start, as the run record keeps them.
 */
export interface K6Requests {
  /** In iteration order (the order of intended sends). */
  readonly rows: readonly RequestRow[];
  /** Epoch ms the times are relative to. */
  readonly startEpochMs: number;
  readonly source: "faultline_request" | "http_req_duration";
  /** Arrivals k6 could not send for lack of a free VU (the `dropped_iterations` counter). */
  readonly droppedIterations: number;
}

export interface K6RowOptions {
  /** Intended send time per iteration (the load plan's intendedTimes); absent: sent time. */
  readonly intended?: ArrayLike<number>;
}

const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOMES);

/** k6 error codes: 1050 request timeout; 1100-1199 DNS and 1200-1299 TCP failures. */
export function outcomeFromK6(status: number, errorCode: number): Outcome {
  if (status === 0) {
    if (errorCode === 1050) return "timeout";
    return errorCode >= 1100 && errorCode < 1300 ? "conn" : "error";
  }
  if (status >= 200 && status < 300) return "ok";
  return status === 429 || status === 503 ? "shed" : "error";
}

function outcomeOf(p: K6Point): Outcome {
  const tagged = p.tags.fl_outcome;
  if (tagged !== undefined && OUTCOME_SET.has(tagged)) return tagged as Outcome;
  return outcomeFromK6(Number(p.tags.status ?? 0), Number(p.tags.error_code ?? 0));
}

/** What a row needs of a point, without its tag maps: a long run holds one per request. */
interface Raw {
  /** fl_iter when it is an integer, else the point's position among its metric's points. */
  readonly iter: number;
  readonly hasIter: boolean;
  /** Epoch ms the request ended (the point's time). */
  readonly timeMs: number;
  readonly durationMs: number;
  /** fl_start as declared by faultline's script; NaN when absent. */
  readonly declaredStart: number;
  readonly outcome: Outcome;
  readonly status: number;
  readonly template: number;
}

function rawOf(p: K6Point, position: number): Raw {
  const iter = Number(p.metadata.fl_iter);
  const status = Number(p.tags.status ?? 0);
  return {
    iter: Number.isInteger(iter) ? iter : position,
    hasIter: p.metadata.fl_iter !== undefined,
    timeMs: p.timeMs,
    durationMs: p.value,
    declaredStart: Number(p.metadata.fl_start),
    outcome: outcomeOf(p),
    status: Number.isFinite(status) ? status : 0,
    template: Number(p.tags.fl_template ?? 0),
  };
}

/**
 * Collects rows point by point, so k6's output can be streamed: `faultline_request` points when
 * the script emits them (then `http_req_duration` ones are dropped, the same requests seen
 * again), else `http_req_duration`; and the `dropped_iterations` count.
 */
export class K6RowCollector {
  private own: Raw[] = [];
  private plain: Raw[] = [];
  private dropped = 0;

  add(p: K6Point): void {
    if (p.metric === "faultline_request") {
      this.own.push(rawOf(p, this.own.length));
      this.plain = [];
    } else if (p.metric === "http_req_duration" && this.own.length === 0)
      this.plain.push(rawOf(p, this.plain.length));
    else if (p.metric === "dropped_iterations") this.dropped += p.value;
  }

  result(options: K6RowOptions = {}): K6Requests {
    const source = this.own.length > 0 ? "faultline_request" : "http_req_duration";
    const raws = this.own.length > 0 ? this.own : this.plain;
    const declared = raws.map((r) => r.declaredStart).find((x) => Number.isFinite(x));
    let startEpochMs = declared ?? Infinity;
    if (declared === undefined)
      for (const r of raws) startEpochMs = Math.min(startEpochMs, r.timeMs - r.durationMs);
    // Without iteration numbers the order of sends is the order of actual send times.
    if (raws.some((r) => !r.hasIter))
      raws.sort((a, b) => a.timeMs - a.durationMs - (b.timeMs - b.durationMs));
    else raws.sort((a, b) => a.iter - b.iter);
    const rows = raws.map((r, order): RequestRow => {
      const end = r.timeMs - startEpochMs;
      const sent = end - r.durationMs;
      const iter = r.hasIter ? r.iter : order;
      return {
        intended: options.intended?.[iter] ?? sent,
        sent,
        end,
        outcome: r.outcome,
        status: r.status,
        template: r.template,
      };
    });
    return { rows, startEpochMs, source, droppedIterations: this.dropped };
  }
}

export function k6RequestRows(data: K6Points, options: K6RowOptions = {}): K6Requests {
  const collector = new K6RowCollector();
  for (const p of data.points) collector.add(p);
  return collector.result(options);
}

/** The rows as the columns the SLA engine and the run record's requests file hold. */
export function k6Columns(requests: K6Requests): RequestColumns {
  return columnsFromRows(requests.rows);
}

const summaryMetricSchema = z.looseObject({
  type: z.enum(["counter", "gauge", "rate", "trend"]),
  values: z.record(z.string(), z.number()),
  thresholds: z.record(z.string(), z.looseObject({ ok: z.boolean() })).optional(),
});

const summarySchema = z.looseObject({
  format: z.literal("faultline-k6-summary"),
  version: z.literal(1),
  scenario: z.string(),
  seed: z.number().int(),
  templates: z.array(z.string()),
  data: z.looseObject({ metrics: z.record(z.string(), summaryMetricSchema) }),
});

export interface K6ThresholdResult {
  readonly metric: string;
  readonly expression: string;
  readonly ok: boolean;
}

export interface K6Summary {
  readonly scenario: string;
  readonly seed: number;
  readonly templates: readonly string[];
  readonly thresholds: readonly K6ThresholdResult[];
  /** http_reqs count; 0 when absent. */
  readonly requests: number;
  /** Share of requests k6 counted failed (http_req_failed rate); null when absent. */
  readonly failedRate: number | null;
  /** http_req_duration percentiles in ms (from the actual send); null when not in the summary. */
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p95: number | null;
    readonly p99: number | null;
  };
  readonly droppedIterations: number;
}

/** Reads the file the exported script's handleSummary writes. */
export function parseK6Summary(text: string, file = "k6 summary"): K6Summary {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError([{ file, path: "", message: `not JSON: ${(e as Error).message}` }]);
  }
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success)
    throw new InvalidInputError(
      parsed.error.issues.map((i) => ({ file, path: i.path.join("."), message: i.message })),
      "expected the summary written by a script from `faultline export k6`",
    );
  const s = parsed.data;
  const m = s.data.metrics;
  const thresholds = Object.entries(m).flatMap(([metric, v]) =>
    Object.entries(v.thresholds ?? {}).map(([expression, r]) => ({ metric, expression, ok: r.ok })),
  );
  const duration = m.http_req_duration?.values ?? {};
  return {
    scenario: s.scenario,
    seed: s.seed,
    templates: s.templates,
    thresholds,
    requests: m.http_reqs?.values.count ?? 0,
    failedRate: m.http_req_failed?.values.rate ?? null,
    latencyMs: { p50: duration.med ?? null, p95: duration["p(95)"] ?? null, p99: duration["p(99)"] ?? null },
    droppedIterations: m.dropped_iterations?.values.count ?? 0,
  };
}
