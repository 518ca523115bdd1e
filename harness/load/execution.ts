import { Pool, type Dispatcher } from "undici";
import { systemClock, type Clock, type TimerHandle } from "../../common/clock.js";
import { OUTCOME_CODE, type OutcomeCounts } from "../../common/outcome.js";
import { RETRY_COUNT_HEADER } from "../targets/protocol.js";
import type { RunEvent } from "../record/schema.js";
import type { RequestColumns } from "../sla/columns.js";
import { ExactSummary } from "../sla/exact-select.js";
import { columnsSource, type RowSource } from "../sla/source.js";
import { RequestsFileWriter, requestsFileSource } from "../record/requests-stream.js";
import type { RetryLog } from "../sla/retries.js";
import { Attempt, DeadlineQueue, type AttemptSink } from "./attempt.js";
import type { LevelMarking } from "./levels.js";
import { LiveStats, type LiveLatency, type SecondCounts } from "./live-stats.js";
import { ArrivalSchedule, templatePicker, type LoadPlan } from "./plan.js";
import { deriveRandom, type Random } from "../../common/random.js";
import { RequestLog } from "./request-log.js";
import { retryAfterMs } from "./retry-after.js";
import { RetryBook } from "./retry-book.js";
import { prepareRequest, type PreparedRequest } from "./templates.js";

export type { RetryLink, RetryLog } from "../sla/retries.js";

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

/**
 * Open-model load: every request is issued at its intended time whether or not earlier ones
 * have answered, so a stalled target cannot slow the arrivals (no coordinated omission).
 *
 * The in-flight cap: when `maxInFlight` requests are outstanding, a due request waits in a
 * FIFO for a free slot and is sent late, its latency still counted from its intended time; if
 * its deadline passes while it waits, it is recorded as `timeout` (end = intended + deadline,
 * never sent). Every request due is thus recorded with an honest outcome, and hitting the cap
 * is counted and logged as `max-in-flight` events (one when an episode starts, one when it ends).
 */
export function startLoad(plan: LoadPlan, options: LoadOptions): LoadHandle {
  const run = new LoadRun(plan, options);
  return {
    done: run.start(),
    setRateMultiplier: (m) => run.setRateMultiplier(m),
    setClientDisconnect: (spec) => run.setClientDisconnect(spec),
    snapshot: () => run.snapshot(),
    stop: () => run.stop(),
  };
}

export function runLoad(plan: LoadPlan, options: LoadOptions): Promise<LoadResult> {
  return startLoad(plan, options).done;
}

/**
 * How long after the plan's end a retry asked for by Retry-After is still sent: 60 s, the
 * longest wait OpenAI's SDKs honour (and the reference service's clamp).
 */
export const RETRY_HORIZON_MS = 60_000;

class LoadRun {
  private readonly clock: Clock;
  private readonly schedule: ArrivalSchedule;
  private readonly pickTemplate: () => number;
  private readonly prepared: PreparedRequest[];
  /** The same requests marked as a retry, as OpenAI's SDKs mark theirs. */
  private readonly preparedRetry: PreparedRequest[];
  /** What undici is handed for each template (and its retry), built once: see dispatchOptions. */
  private readonly dispatchFirst: Dispatcher.DispatchOptions[];
  private readonly dispatchRetry: Dispatcher.DispatchOptions[];
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly writer: RequestsFileWriter | null;
  private readonly log: RequestLog;
  private readonly live = new LiveStats();
  private readonly events: RunEvent[] = [];
  private readonly queue: number[] = [];
  private readonly deadlines = new DeadlineQueue();
  private deadlineTimer: TimerHandle | undefined;
  private queueHead = 0;
  private t0 = 0;
  private startedAtMs = 0;
  private nextAt: number | undefined;
  private timer: TimerHandle | undefined;
  private inFlight = 0;
  private hits = 0;
  private expired = 0;
  private episode: { startMs: number; waited: number; expired: number } | null = null;
  private stopped = false;
  private disconnect: ClientDisconnectSpec | null = null;
  private readonly disconnectRandom: Random;
  private readonly retries: RetryBook | null;
  private issuingDone = false;
  private finishing = false;
  private resolve: (r: LoadResult) => void = () => {};
  private reject: (e: unknown) => void = () => {};
  private readonly onAbort = (): void => this.stop();

  constructor(
    private readonly plan: LoadPlan,
    private readonly opts: LoadOptions,
  ) {
    if (!(opts.maxInFlight >= 1)) throw new RangeError(`maxInFlight must be >= 1, got ${opts.maxInFlight}`);
    if (!(opts.deadlineMs > 0)) throw new RangeError(`deadlineMs must be > 0, got ${opts.deadlineMs}`);
    this.clock = opts.clock ?? systemClock;
    this.writer = opts.requestsFile === undefined ? null : new RequestsFileWriter(opts.requestsFile);
    this.log = new RequestLog(this.writer);
    this.schedule = new ArrivalSchedule(plan);
    this.pickTemplate = templatePicker(plan);
    this.disconnectRandom = deriveRandom(plan.seed, "client-disconnect");
    this.retries = opts.honourRetryAfter ? new RetryBook(plan.durationMs + RETRY_HORIZON_MS) : null;
    this.prepared = plan.mix.map((t) => prepareRequest(t, opts.model));
    this.preparedRetry = this.prepared.map((p) => ({
      ...p,
      headers: { ...p.headers, [RETRY_COUNT_HEADER]: "1" },
    }));
    const url = new URL(opts.baseUrl);
    this.prefix = url.pathname.replace(/\/+$/, "");
    this.dispatchFirst = this.prepared.map((p) => dispatchOptions(this.prefix, p));
    this.dispatchRetry = this.preparedRetry.map((p) => dispatchOptions(this.prefix, p));
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? opts.maxInFlight,
      pipelining: 1,
      // Our own deadline governs; undici's timers would misclassify a slow answer.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: opts.deadlineMs,
    });
  }

  start(): Promise<LoadResult> {
    return new Promise<LoadResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.warmUp().then(
        () => this.begin(),
        (e: unknown) => this.fail(e),
      );
    });
  }

  private async warmUp(): Promise<void> {
    const n = this.opts.warmup ?? 0;
    const req = this.prepared[0];
    if (n <= 0 || req === undefined) return;
    const one = async (): Promise<void> => {
      try {
        const signal = AbortSignal.timeout(this.opts.deadlineMs);
        const res = await this.pool.request({
          path: this.prefix + req.path,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal,
        });
        await res.body.dump();
      } catch {
        // A warm-up failure is not a measurement; the run will record whatever the target does.
      }
    };
    const parallel = Math.min(n, 8);
    for (let done = 0; done < n; done += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, one));
    }
  }

  private begin(): void {
    this.t0 = this.clock.monotonic();
    this.startedAtMs = this.clock.now();
    this.opts.signal?.addEventListener("abort", this.onAbort, { once: true });
    if (this.opts.signal?.aborted) this.stopped = true;
    this.opts.onStart?.(this.startedAtMs);
    this.nextAt = this.schedule.next();
    this.tick();
  }

  private rel(): number {
    return this.clock.monotonic() - this.t0;
  }

  /** Issues every arrival and retry now due, merged in intended order (the log's invariant). */
  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return this.endIssuing();
    const now = this.rel();
    for (;;) {
      const retryAt = this.retries?.nextAt;
      const arrival = this.issuingDone ? undefined : this.nextAt;
      if (retryAt !== undefined && retryAt <= now && (arrival === undefined || retryAt <= arrival)) {
        this.issueRetry();
      } else if (arrival !== undefined && arrival <= now) {
        this.issue(arrival, this.pickTemplate());
        this.nextAt = this.schedule.next();
      } else break;
    }
    this.armTick();
  }

  /** Wakes at the next arrival or retry; with neither left, issuing is over. */
  private armTick(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const arrival = this.issuingDone ? undefined : this.nextAt;
    const retryAt = this.retries?.nextAt;
    const next =
      arrival === undefined ? retryAt : retryAt === undefined ? arrival : Math.min(arrival, retryAt);
    if (arrival === undefined) this.issuingDone = true;
    if (next === undefined) return this.endIssuing();
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, next - this.rel()));
  }

  setRateMultiplier(m: number): void {
    const retimed = this.schedule.setRateMultiplier(m, this.rel());
    if (retimed === undefined || this.issuingDone) return;
    this.nextAt = retimed === Number.POSITIVE_INFINITY ? undefined : retimed;
    this.armTick();
  }

  setClientDisconnect(spec: ClientDisconnectSpec | null): boolean {
    this.disconnect = spec;
    return true;
  }

  /** Events after which this stream is cut by the client, or undefined to read it whole. */
  private cutAfter(req: PreparedRequest): number | undefined {
    if (!req.stream || this.disconnect === null) return undefined;
    return this.disconnectRandom() < this.disconnect.fraction ? this.disconnect.afterEvents : undefined;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.retries?.dropPending();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.endIssuing();
  }

  private issueRetry(): void {
    const p = this.retries?.take();
    if (p === undefined) return;
    const row = this.log.add(p.at, p.template);
    this.retries?.sent(p, row);
    this.dispatch(row);
  }

  /** Books the retry a shed answer asks for, waking the loop if it is now the earliest. */
  private retryLater(a: Attempt, end: number): void {
    if (this.retries === null) return;
    const wait = retryAfterMs(a.retryAfter, this.clock.now());
    const at = this.retries.shed(a.row, this.log.template(a.row), end, wait, !this.stopped);
    if (at !== undefined && at === this.retries.nextAt) this.armTick();
  }

  private issue(intended: number, template: number): void {
    this.dispatch(this.log.add(intended, template));
  }

  /** Sends a logged row, or queues it behind the in-flight cap. */
  private dispatch(row: number): void {
    // FIFO: while others wait, a new arrival queues behind them even if a slot just freed.
    if (this.inFlight < this.opts.maxInFlight && this.queueHead === this.queue.length) {
      this.send(row, this.rel());
      return;
    }
    this.queue.push(row);
    this.hits++;
    if (this.episode === null) {
      this.episode = { startMs: this.rel(), waited: 0, expired: 0 };
      this.emit(
        "max-in-flight",
        `in-flight cap of ${this.opts.maxInFlight} reached; due requests wait for a free slot`,
      );
    }
    this.episode.waited++;
  }

  /** Hands `row` to the pool; `now` (run time) is its actual send time. */
  private send(row: number, now: number): void {
    this.inFlight++;
    this.log.setSent(row, now);
    const retry = this.retries?.isRetry(row) ?? false;
    const template = this.log.template(row);
    const req = (retry ? this.preparedRetry : this.prepared)[template];
    const deadlineAt = this.log.intended(row) + this.opts.deadlineMs;
    const attempt = new Attempt(row, deadlineAt, req, this.sink, this.cutAfter(req), this.opts.levels);
    attempt.deadlineSlot = this.deadlines.push(attempt);
    if (this.deadlineTimer === undefined) this.armDeadlines(attempt.deadlineAt);
    this.pool.dispatch((retry ? this.dispatchRetry : this.dispatchFirst)[template], attempt);
  }

  private armDeadlines(at: number | undefined): void {
    this.deadlineTimer = undefined;
    if (at === undefined) return;
    this.deadlineTimer = this.clock.setTimeout(
      () => this.armDeadlines(this.deadlines.expireDue(this.rel())),
      at - this.rel(),
    );
  }

  private readonly sink: AttemptSink = {
    now: () => this.rel(),
    firstByte: (row, t) => this.log.setFirstByte(row, t),
    settle: (a, end, outcome) => {
      this.deadlines.settled(a.deadlineSlot);
      this.finish(a.row, end, OUTCOME_CODE[outcome], a.status, a.bytes);
      if (outcome === "shed") this.retryLater(a, end);
      this.complete();
    },
  };

  private finish(row: number, end: number, code: number, status: number, bytes: number): void {
    this.log.finish(row, end, code, status, bytes);
    this.live.record(end, code, end - this.log.intended(row));
  }

  private complete(): void {
    this.inFlight--;
    this.drain();
    this.maybeDone();
  }

  private drain(): void {
    while (this.queueHead < this.queue.length && this.inFlight < this.opts.maxInFlight) {
      const row = this.queue[this.queueHead++];
      const deadline = this.log.intended(row) + this.opts.deadlineMs;
      // One clock reading decides and stamps: the send follows within microseconds.
      const now = this.rel();
      if (now >= deadline) this.expire(row, deadline);
      else this.send(row, now);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.endEpisode();
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private expire(row: number, deadline: number): void {
    this.expired++;
    if (this.episode) this.episode.expired++;
    this.finish(row, deadline, OUTCOME_CODE.timeout, 0, 0);
  }

  private endEpisode(): void {
    if (this.episode === null) return;
    const e = this.episode;
    this.episode = null;
    const lasted = Math.round(this.rel() - e.startMs);
    this.emit(
      "max-in-flight",
      `in-flight cap episode over after ${lasted} ms: ${e.waited} requests waited, ${e.expired} expired unsent (recorded as timeout)`,
    );
  }

  private emit(kind: RunEvent["kind"], message: string): void {
    const event: RunEvent = { tMs: this.rel(), kind, message };
    this.events.push(event);
    this.opts.onEvent?.(event);
  }

  private endIssuing(): void {
    this.issuingDone = true;
    this.maybeDone();
  }

  private maybeDone(): void {
    const retriesDue = (this.retries?.pendingCount ?? 0) > 0;
    if (!this.issuingDone || retriesDue || this.inFlight > 0 || this.queueHead < this.queue.length) return;
    if (this.finishing) return;
    this.finishing = true;
    this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    const durationMs = this.rel();
    this.pool.close().then(
      () => {
        try {
          this.resolve(this.result(durationMs));
        } catch (e) {
          this.fail(e);
        }
      },
      (e: unknown) => this.fail(e),
    );
  }

  private fail(e: unknown): void {
    this.writer?.abort();
    this.reject(e);
  }

  snapshot(): LoadSnapshot {
    const now = this.rel();
    return {
      elapsedMs: now,
      rateMultiplier: this.schedule.rateMultiplier,
      scheduled: this.log.length,
      inFlight: this.inFlight,
      queued: this.queue.length - this.queueHead,
      maxInFlightHits: this.hits,
      totals: { ...this.live.totals },
      lastSeconds: this.live.lastSeconds(now, 10),
      recentLatency: this.live.recentLatency(),
    };
  }

  private result(durationMs: number): LoadResult {
    let requests: RowSource;
    let columns: RequestColumns | null = null;
    if (this.writer !== null) {
      this.log.close();
      this.writer.finish();
      requests = requestsFileSource(this.writer.file);
    } else {
      columns = this.log.columns();
      requests = columnsSource(columns);
    }
    const { achievedRate, sendLagP99Ms } = sendStatsOf(requests);
    const file = this.writer?.file ?? null;
    const base = {
      requests,
      requestsFile: file,
      templates: this.prepared.map((p) => p.label),
      startedAtMs: this.startedAtMs,
      durationMs,
      plannedDurationMs: this.plan.durationMs,
      targetRate: this.plan.durationMs > 0 ? this.plan.expectedRequests / (this.plan.durationMs / 1000) : 0,
      achievedRate,
      sendLagP99Ms,
      maxInFlightHits: this.hits,
      expiredUnsent: this.expired,
      events: this.events,
      stopped: this.stopped,
      retries: this.retries?.log() ?? null,
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
}

/**
 * The options undici gets for one template, shared by every request of it (undici reads them
 * and does not keep or change them): the path with the base URL's prefix, headers as the flat
 * name/value list undici stores anyway, and the body encoded once (undici would otherwise copy
 * a string body into a new Buffer per request; the bytes sent are the same UTF-8).
 */
function dispatchOptions(prefix: string, req: PreparedRequest): Dispatcher.DispatchOptions {
  return {
    path: prefix + req.path,
    method: req.method,
    headers: Object.entries(req.headers).flat(),
    body: req.body === undefined ? undefined : Buffer.from(req.body, "utf8"),
  };
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
