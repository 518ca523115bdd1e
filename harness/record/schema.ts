import { z } from "zod";
import { OUTCOMES } from "../../common/outcome.js";

/**
 * The run record: the contract between the harness and the reports (DESIGN.md). Reports read
 * only this document (plus, optionally, the compact per-request file it names). Times inside
 * a run are milliseconds relative to `startedAtMs` unless a field says otherwise.
 *
 * Bump RUN_RECORD_VERSION on any incompatible change, and keep a reader for old versions.
 */
export const RUN_RECORD_VERSION = 1;

const ms = z.number().finite();
const nonNeg = z.number().finite().nonnegative();
const ratio = z.number().min(0).max(1);

export const outcomeCountsSchema = z.strictObject(
  Object.fromEntries(OUTCOMES.map((o) => [o, z.number().int().nonnegative()])) as {
    [K in (typeof OUTCOMES)[number]]: z.ZodNumber;
  },
);

export const percentilesSchema = z.strictObject({
  count: z.number().int().nonnegative(),
  p50: nonNeg.nullable(),
  p95: nonNeg.nullable(),
  p99: nonNeg.nullable(),
  max: nonNeg.nullable(),
});

export const windowSchema = z.strictObject({
  startMs: ms,
  counts: outcomeCountsSchema,
  /** Good / all in this window; null when the window had no requests. */
  goodRatio: ratio.nullable(),
  /** Latency from the intended send time, for requests that ended in this window's bucket by intended time. */
  latency: percentilesSchema,
  /** Whether the window met the uptime threshold (a window without requests counts as up). */
  up: z.boolean(),
});

export const faultTimingSchema = z.strictObject({
  id: z.string(),
  kind: z.string(),
  target: z.string(),
  description: z.string(),
  params: z.record(z.string(), z.unknown()),
  /** Planned start/end (end null for an instant fault such as a kill). */
  startMs: ms,
  endMs: ms.nullable(),
  /** Actual inject/revert times as observed by the harness; revertedAtMs null if never reverted. */
  injectedAtMs: ms.nullable(),
  revertedAtMs: ms.nullable(),
  timeToDetectMs: nonNeg.nullable(),
  /** Why time to detect is null (no signal, or none before the service was back). Optional: added later. */
  detectNote: z.string().optional(),
  timeToRecoverMs: nonNeg.nullable(),
  /** Recovery at the answered level: any good answer, fallbacks included. Optional: added later. */
  timeToAnswerAgainMs: nonNeg.nullable().optional(),
  /** Recovery at full service: the primary model's answers only. Optional: added later. */
  timeToFullServiceMs: nonNeg.nullable().optional(),
  recovered: z.boolean(),
  /** Requests whose intended send fell between fault start and recovery. */
  requests: z.strictObject({
    total: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    degraded: z.number().int().nonnegative(),
  }),
  error: z.string().optional(),
});

export const sloResultSchema = z.strictObject({
  id: z.string(),
  /** Human text, e.g. "availability >= 99.9%". */
  description: z.string(),
  metric: z.string(),
  comparator: z.enum(["<=", ">=", "<", ">"]),
  bound: z.number(),
  measured: z.number().nullable(),
  unit: z.enum(["ratio", "ms", "count"]),
  /** Distance to the bound in the passing direction (negative = missed by that much). */
  margin: z.number().nullable(),
  passed: z.boolean(),
  faultId: z.string().optional(),
});

export const projectionSchema = z.strictObject({
  sloTarget: ratio,
  months: z.number().int().positive(),
  seed: z.number().int(),
  /** Per fault kind: assumed occurrences per month and measured downtime per occurrence. */
  inputs: z.array(z.strictObject({ kind: z.string(), perMonth: nonNeg, downtimeMs: nonNeg })),
  meanAvailability: ratio,
  p5Availability: ratio,
  probabilityMeetingSlo: ratio,
});

export const metricSampleSchema = z.strictObject({
  tMs: ms,
  /** Series key as in the exposition, e.g. `faultline_breaker_state{backend="worker"}`. */
  values: z.record(z.string(), z.number()),
});

/** An alert a target sent to the run's Alertmanager-format receiver (harness/alerts). */
export const alertInfoSchema = z.strictObject({
  /** The alertname label. */
  name: z.string(),
  status: z.enum(["firing", "resolved"]),
  /** The severity label, if any (warning, critical, ...). */
  severity: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  /** As the sender stated them (RFC 3339); endsAt null while firing. */
  startsAt: z.string(),
  endsAt: z.string().nullable(),
});

export const eventSchema = z.strictObject({
  tMs: ms,
  kind: z.enum([
    "fault-injected",
    "fault-reverted",
    "fault-error",
    "abort",
    "max-in-flight",
    "steady-state",
    "target",
    "note",
    "alert",
    "notification",
  ]),
  message: z.string(),
  faultId: z.string().optional(),
  /** With kind alert: the alert as received. Optional (added later). */
  alert: alertInfoSchema.optional(),
  /** With kind notification: a message received on a subscribed WebSocket. Optional (added later). */
  notification: z
    .strictObject({ url: z.string(), field: z.string(), type: z.string().nullable() })
    .optional(),
});

export const checkResultSchema = z.strictObject({
  name: z.string(),
  passed: z.boolean(),
  detail: z.string(),
});

export const runRecordSchema = z.strictObject({
  schemaVersion: z.literal(RUN_RECORD_VERSION),
  id: z.string(),
  scenario: z.strictObject({
    name: z.string(),
    file: z.string().nullable(),
    seed: z.number().int(),
    /** The scenario as run, after defaults were applied. */
    source: z.record(z.string(), z.unknown()),
  }),
  status: z.enum(["completed", "aborted", "void"]),
  statusReason: z.string().optional(),
  verdict: z.enum(["pass", "fail", "aborted", "void"]),
  startedAtMs: ms,
  endedAtMs: ms,
  durationMs: nonNeg,
  environment: z.strictObject({
    faultline: z.string(),
    node: z.string(),
    platform: z.string(),
    arch: z.string(),
    cpus: z.number().int().nonnegative(),
    memoryBytes: nonNeg,
    hostname: z.string(),
  }),
  target: z.strictObject({
    kind: z.enum(["reference", "command", "url", "docker"]),
    url: z.string(),
    description: z.string(),
  }),
  load: z.strictObject({
    targetRate: nonNeg,
    achievedRate: nonNeg,
    deadlineMs: nonNeg,
    maxInFlight: z.number().int().positive(),
    maxInFlightHits: z.number().int().nonnegative(),
    sendLagP99Ms: nonNeg.nullable(),
    /** Who sent the load (scenario load.driver); absent in older records, which mean builtin. */
    driver: z.enum(["builtin", "k6"]).optional(),
    /** With driver k6: what k6 reported besides the per-request rows. */
    k6: z
      .strictObject({
        /** k6's exit code: 0; 99 when its own thresholds failed (the verdict comes from the SLOs); other when interrupted. */
        exitCode: z.number().int(),
        /** Arrivals k6 could not send for lack of a free VU; these are not in the request rows. */
        droppedIterations: z.number().int().nonnegative(),
        /** k6's scenario start minus the run's time origin (k6 start-up); request times include it. */
        startOffsetMs: ms,
        /** Which k6 metric the rows were read from. */
        source: z.enum(["faultline_request", "http_req_duration"]),
      })
      .optional(),
  }),
  totals: outcomeCountsSchema,
  availability: z.strictObject({
    value: ratio.nullable(),
    degradedCountsAsGood: z.boolean(),
    /** "final": each request counted once, by its retry when its shed answer was retried. Absent in older records: each. */
    attempts: z.enum(["each", "final"]).optional(),
  }),
  uptime: z.strictObject({ value: ratio.nullable(), windowMs: z.number().positive(), threshold: ratio }),
  /**
   * Availability and uptime at both service levels (answered = any good answer, full = the
   * primary model's answers only), same windows and attempts rule as the headline. Optional:
   * added after version 1 shipped; reports fall back to the headline for older records.
   */
  levels: z
    .strictObject({
      answered: z.strictObject({ availability: ratio.nullable(), uptime: ratio.nullable() }),
      full: z.strictObject({ availability: ratio.nullable(), uptime: ratio.nullable() }),
    })
    .optional(),
  latency: z.strictObject({
    intended: percentilesSchema,
    service: percentilesSchema,
    byPhase: z.strictObject({
      before: percentilesSchema,
      during: percentilesSchema,
      after: percentilesSchema,
    }),
  }),
  windows: z.array(windowSchema),
  faults: z.array(faultTimingSchema),
  errorBudget: z.strictObject({
    slo: ratio,
    budgetRequests: nonNeg,
    badRequests: z.number().int().nonnegative(),
    burn: nonNeg.nullable(),
  }),
  projection: projectionSchema.nullable(),
  slos: z.array(sloResultSchema),
  steadyState: z.strictObject({ before: z.array(checkResultSchema), after: z.array(checkResultSchema) }),
  targetMetrics: z.array(metricSampleSchema),
  events: z.array(eventSchema),
  /** Relative path of the compact per-request file in the run directory, if written. */
  requestsFile: z.string().nullable(),
  /**
   * Downtime at request resolution: maximal runs of consecutive unhealthy requests by intended
   * time, [first bad request, next healthy request). Optional: added after version 1 shipped.
   */
  downtime: z.array(z.strictObject({ startMs: ms, endMs: ms })).optional(),
  /** Label of each request template, by the index stored in the per-request file. Optional (added later). */
  requestTemplates: z.array(z.string()).optional(),
  /**
   * Present when the load honoured Retry-After (scenario load.honourRetryAfter): shed requests
   * sent once more at the time their Retry-After named. Optional (added later).
   */
  retries: z
    .strictObject({
      /** Retries sent; their rows are in the per-request data like any other request. */
      sent: z.number().int().nonnegative(),
      /** How the retries themselves were answered. */
      outcomes: outcomeCountsSchema,
      /** Shed answers with no Retry-After a client could act on (not retried). */
      withoutRetryAfter: z.number().int().nonnegative(),
      /** Retries due more than 60 s after the load's planned end, or pending when it was stopped: not sent. */
      unsent: z.number().int().nonnegative(),
      /** The waits the retried answers asked for. */
      retryAfterMs: percentilesSchema,
    })
    .optional(),
});

export type RunRecord = z.infer<typeof runRecordSchema>;
export type FaultTiming = z.infer<typeof faultTimingSchema>;
export type SloResult = z.infer<typeof sloResultSchema>;
export type WindowStats = z.infer<typeof windowSchema>;
export type Percentiles = z.infer<typeof percentilesSchema>;
export type Projection = z.infer<typeof projectionSchema>;
export type RunEvent = z.infer<typeof eventSchema>;
export type AlertInfo = z.infer<typeof alertInfoSchema>;
