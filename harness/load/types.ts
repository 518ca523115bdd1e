import type { Clock } from "../../common/clock.js";
import type { OutcomeCounts } from "../../common/outcome.js";
import type { RunEvent } from "../record/schema.js";
import type { RequestColumns } from "../sla/columns.js";
import type { RetryLog } from "../sla/retries.js";
import type { RowSource } from "../sla/source.js";
import type { LevelMarking } from "./levels.js";
import type { LiveLatency, SecondCounts } from "./live-stats.js";

/** What a load run is given, what it hands back, and the handle that steers it while it runs. */

export interface LoadOptions {
  /** Target base URL; a path prefix (http://host/api) is kept in front of every route. */
  readonly baseUrl: string;
  /** Client deadline per request, counted from its intended send time. */
  readonly deadlineMs: number;
  /** Requests allowed in flight at once; beyond it requests wait, their latency still counted from the intended send time. */
  readonly maxInFlight: number;
  readonly clock?: Clock;
  /** Aborting it stops issuing (as stop()). */
  readonly signal?: AbortSignal;
  /** Model name for templates that name none. */
  readonly model?: string;
  /** How the target marks an answer's service level; default the reference service's. */
  readonly levels?: LevelMarking;
  /**
   * Connection pool size; default maxInFlight (opened lazily, only as concurrency needs), so
   * the target sees the full open-model concurrency. A smaller pool makes undici queue
   * requests client-side: `sent` is then the hand-over to the pool and service time includes
   * that wait (intended-time latency stays honest either way).
   */
  readonly connections?: number;
  /**
   * Requests of the first template sent before the time origin and not recorded (default 0):
   * they open connections and let undici compile its parser, so start-up cost of the client
   * does not show up as the target's latency in the first few hundred ms. They do reach the target.
   */
  readonly warmup?: number;
  /** Called once at the time origin (after warm-up), with the wall-clock start (epoch ms). */
  readonly onStart?: (startedAtMs: number) => void;
  /** Called for each run event as it happens (also returned in the result). */
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * Send a shed request (429/503) once more at the time its Retry-After names, as a new row
   * intended at that time (latency counts from then). A retry that is shed again is not
   * retried. Retries go out after the plan's end too, up to RETRY_HORIZON_MS past it; later
   * ones, and any pending at stop(), are not sent.
   */
  readonly honourRetryAfter?: boolean;
  /**
   * Streams the per-request columns to this file (requests.bin layout) as the run goes, so
   * the generator holds only the rows still in flight whatever the run's length; the result's
   * `requests` then reads the file and its `columns` is not available. Without it every row
   * stays in memory (40 bytes per request): tests and short checks.
   */
  readonly requestsFile?: string;
}

export interface LoadSnapshot {
  readonly elapsedMs: number;
  readonly rateMultiplier: number;
  /** Requests whose intended time has come (sent, waiting for a slot, or done). */
  readonly scheduled: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly maxInFlightHits: number;
  readonly totals: OutcomeCounts;
  /** The last 10 whole seconds by completion time, oldest first. */
  readonly lastSeconds: readonly SecondCounts[];
  /** Intended-time latency over the last 1,024 completions. */
  readonly recentLatency: LiveLatency;
}

export interface LoadResult {
  /**
   * Every row in memory; throws for a run that streamed its rows to `requestsFile` (read
   * `requests` instead, which works for both).
   */
  readonly columns: RequestColumns;
  /** The rows, in blocks: from memory, or from `requestsFile`. */
  readonly requests: RowSource;
  /** The requests file the run streamed to; null when its rows are in memory. */
  readonly requestsFile: string | null;
  /** Label of each template index used in `columns.template`. */
  readonly templates: readonly string[];
  /** Wall-clock time (epoch ms) of the run's time origin; every time in columns is relative to it. */
  readonly startedAtMs: number;
  /** From the origin until the last answer. */
  readonly durationMs: number;
  readonly plannedDurationMs: number;
  /** Mean rate of the plan (requests it implies / its length). */
  readonly targetRate: number;
  /** (sent - 1) / (last send - first send): falls below target when sends run late. */
  readonly achievedRate: number;
  /** Nearest-rank P99 of actual send minus intended send; null when nothing was sent. */
  readonly sendLagP99Ms: number | null;
  /** Requests that found the in-flight cap full and had to wait. */
  readonly maxInFlightHits: number;
  /** Of those, requests whose deadline passed while waiting: recorded as timeout, never sent. */
  readonly expiredUnsent: number;
  readonly events: readonly RunEvent[];
  readonly stopped: boolean;
  /** Null unless the load honoured Retry-After. */
  readonly retries: RetryLog | null;
}

/** Streams sent from now on are cut by the client after `afterEvents` server-sent events. */
export interface ClientDisconnectSpec {
  readonly afterEvents: number;
  /** Share of streams cut, picked by a random source derived from the plan's seed. */
  readonly fraction: number;
}

export interface LoadHandle {
  readonly done: Promise<LoadResult>;
  /** Multiplies the plan's arrival rate from now on (load-burst fault); 1 restores it. */
  setRateMultiplier(multiplier: number): void;
  /**
   * Cuts streams sent from now on (client-disconnect fault); null stops. Returns false when
   * this driver cannot (absent on drivers that cannot cut streams at all).
   */
  setClientDisconnect?(spec: ClientDisconnectSpec | null): boolean;
  /** Cheap, synchronous live view for dashboards; never waits on the load loop. */
  snapshot(): LoadSnapshot;
  /** Stops issuing new requests; those already due still finish (bounded by the deadline). */
  stop(): void;
}
