import { systemClock } from "../../common/clock.js";
import {
  sendStats,
  type LoadHandle,
  type LoadOptions,
  type LoadPlan,
  type LoadResult,
  type LoadSnapshot,
} from "../load/index.js";
import type { RunRecord } from "../record/schema.js";
import type { Scenario } from "../scenario/schema.js";
import { columnsFromRows } from "../sla/columns.js";
import { columnsSource } from "../sla/source.js";
import { runK6Load, type K6LoadResult, type K6RunOptions } from "./driver.js";
import { k6Templates } from "./export.js";

/** What the run record keeps about a k6-driven load besides its rows (record `load.k6`). */
export type K6LoadReport = NonNullable<RunRecord["load"]["k6"]>;

export interface K6LoadDriver {
  /** Drop-in for the built-in `startLoad` (executeRun's `startLoad` input). */
  readonly start: (plan: LoadPlan, options: LoadOptions) => LoadHandle;
  /** What k6 reported, once its load is done; null before (or when k6 failed). */
  report(): K6LoadReport | null;
}

export interface K6DriverOptions {
  /** The run's directory: the script, k6's points and its summary are kept there. */
  readonly dir: string;
  readonly env: K6RunOptions["env"];
  /** Replaced in tests of the conversion only; the default runs the k6 binary. */
  readonly run?: (scenario: Scenario, opts: K6RunOptions) => Promise<K6LoadResult>;
}

export interface K6ResultInput {
  /** The run's time origin (epoch ms): when k6 was started and the fault timeline began. */
  readonly originMs: number;
  readonly plan: LoadPlan;
  readonly templates: readonly string[];
  readonly durationMs: number;
  readonly stopped: boolean;
}

/**
 * k6's rows on the run's time axis. k6 counts from its own scenario start, which comes after
 * the origin by k6's start-up (it compiles the script first); the fault timeline counts from the
 * origin, so every k6 time is shifted by that offset. Intended times shift with them: they are
 * k6's schedule, which starts when k6 does.
 */
export function k6LoadResult(r: K6LoadResult, o: K6ResultInput): { load: LoadResult; report: K6LoadReport } {
  const rows = r.requests.rows;
  const offset = rows.length === 0 ? 0 : r.requests.startEpochMs - o.originMs;
  const columns = columnsFromRows(
    rows.map((x) => ({
      ...x,
      intended: x.intended + offset,
      end: x.end + offset,
      ...(x.sent === undefined ? {} : { sent: x.sent + offset }),
    })),
  );
  const { achievedRate, sendLagP99Ms } = sendStats(columns);
  const load: LoadResult = {
    columns,
    // k6 hands its rows over at the end (its summary), so they are in memory anyway.
    requests: columnsSource(columns),
    requestsFile: null,
    templates: o.templates,
    startedAtMs: o.originMs,
    durationMs: o.durationMs,
    plannedDurationMs: o.plan.durationMs,
    targetRate: o.plan.durationMs > 0 ? o.plan.expectedRequests / (o.plan.durationMs / 1000) : 0,
    achievedRate,
    sendLagP99Ms,
    // k6 has no client-side queue: a VU shortage drops the arrival (report.droppedIterations).
    maxInFlightHits: 0,
    expiredUnsent: 0,
    events: [],
    stopped: o.stopped,
    // load.honourRetryAfter is refused with load.driver: k6 (scenario/semantic.ts).
    retries: null,
  };
  return {
    load,
    report: {
      exitCode: r.exitCode,
      droppedIterations: Math.round(r.requests.droppedIterations),
      startOffsetMs: offset,
      source: r.requests.source,
    },
  };
}

const NO_TOTALS = { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 };

/**
 * `load.driver: k6` as a load handle. k6's output is read when it exits, so the live view is
 * empty while it runs: the live dashboard sees no requests under k6 (the record and every
 * verdict do), and abort conditions are refused at validation (semantic.ts). A load-burst
 * fault is part of the script's stages, so the scheduler's rate multiplier is ignored here.
 */
export function k6LoadDriver(scenario: Scenario, opts: K6DriverOptions): K6LoadDriver {
  let report: K6LoadReport | null = null;
  const run = opts.run ?? runK6Load;
  const templates = k6Templates(scenario).map((t) => t.name);
  const start = (plan: LoadPlan, options: LoadOptions): LoadHandle => {
    const clock = options.clock ?? systemClock;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let t0: number | null = null;
    const done = (async (): Promise<LoadResult> => {
      // After startLoad's caller has the handle, as the built-in generator's onStart comes.
      await Promise.resolve();
      t0 = clock.monotonic();
      const originMs = clock.now();
      options.onStart?.(originMs);
      try {
        const result = await run(scenario, {
          baseUrl: options.baseUrl,
          dir: opts.dir,
          env: opts.env,
          signal: stop.signal,
        });
        const durationMs = clock.monotonic() - t0;
        const out = k6LoadResult(result, {
          originMs,
          plan,
          templates,
          durationMs,
          stopped: stop.signal.aborted,
        });
        report = out.report;
        return out.load;
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
      }
    })();
    const snapshot = (): LoadSnapshot => ({
      elapsedMs: t0 === null ? 0 : clock.monotonic() - t0,
      rateMultiplier: 1,
      scheduled: 0,
      inFlight: 0,
      queued: 0,
      maxInFlightHits: 0,
      totals: { ...NO_TOTALS },
      lastSeconds: [],
      recentLatency: { count: 0, p50: null, p95: null, p99: null },
    });
    return { done, setRateMultiplier: () => undefined, snapshot, stop: () => stop.abort() };
  };
  return { start, report: () => report };
}
