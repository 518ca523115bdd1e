import type { Client } from "undici";
import { systemClock, type Clock } from "../../common/clock.js";
import { OUTCOME_CODE } from "../../common/outcome.js";
import { deriveRandom } from "../../common/random.js";
import type { RunEvent } from "../record/schema.js";
import { RequestsFileWriter } from "../record/requests-stream.js";
import { ArrivalMerge, type IssueHooks } from "./arrival-merge.js";
import { Attempt, type AttemptSink } from "./attempt.js";
import { Connections } from "./connections.js";
import { DeadlineWatch } from "./deadline-watch.js";
import { DispatchTable } from "./dispatch-table.js";
import { InFlightGate, type GateHooks } from "./in-flight-gate.js";
import { LiveStats } from "./live-stats.js";
import { ArrivalSchedule, templatePicker, type LoadPlan } from "./plan.js";
import { RequestLog } from "./request-log.js";
import { loadResult } from "./result.js";
import { retryAfterMs } from "./retry-after.js";
import { RetryBook, type PendingRetry } from "./retry-book.js";
import { StreamCutter } from "./stream-cutter.js";
import type { ClientDisconnectSpec, LoadHandle, LoadOptions, LoadResult, LoadSnapshot } from "./types.js";
import { warmUp } from "./warm-up.js";

export type { ClientDisconnectSpec, LoadHandle, LoadOptions, LoadResult, LoadSnapshot } from "./types.js";
export type { RetryLink, RetryLog } from "../sla/retries.js";
export { sendStats, sendStatsOf } from "./result.js";

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
  const run = new LoadExecution(plan, options);
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

/**
 * One execution of a load plan: wires the parts (arrival merge, in-flight gate, deadline
 * watch, request log) to undici's pool and to each other, and owns the run's start and end.
 * The hooks it hands the parts are built once here, so the per-request path allocates only
 * the request's own Attempt.
 */
class LoadExecution {
  private readonly clock: Clock;
  private readonly table: DispatchTable;
  private readonly pickTemplate: () => number;
  private readonly connections: Connections;
  private readonly writer: RequestsFileWriter | null;
  private readonly log: RequestLog;
  private readonly live = new LiveStats();
  private readonly events: RunEvent[] = [];
  private readonly schedule: ArrivalSchedule;
  private readonly retries: RetryBook | null;
  private readonly merge: ArrivalMerge;
  private readonly gate: InFlightGate;
  private readonly deadlines: DeadlineWatch;
  private readonly cutter: StreamCutter;
  /** While a completed answer frees its slot: its connection, which the next send may take. */
  private handOver: Client | null = null;
  private t0 = 0;
  private startedAtMs = 0;
  private stopped = false;
  private finishing = false;
  private resolve: (r: LoadResult) => void = () => {};
  private reject: (e: unknown) => void = () => {};
  private readonly onAbort = (): void => this.stop();
  private readonly now = (): number => this.clock.monotonic() - this.t0;

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
    this.cutter = new StreamCutter(deriveRandom(plan.seed, "client-disconnect"));
    this.retries = opts.honourRetryAfter ? new RetryBook(plan.durationMs + RETRY_HORIZON_MS) : null;
    const url = new URL(opts.baseUrl);
    this.table = new DispatchTable(plan.mix, opts.model, url.pathname.replace(/\/+$/, ""));
    this.connections = new Connections(url.origin, {
      connections: opts.connections ?? opts.maxInFlight,
      pipelining: 1,
      // Our own deadline governs; undici's timers would misclassify a slow answer.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: opts.deadlineMs,
    });
    this.merge = new ArrivalMerge(this.clock, this.schedule, this.retries, this.issueHooks);
    this.gate = new InFlightGate(opts.maxInFlight, this.gateHooks);
    this.deadlines = new DeadlineWatch(this.clock, this.now);
  }

  start(): Promise<LoadResult> {
    return new Promise<LoadResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      warmUp(
        this.connections.pool,
        this.table.prefix,
        this.table.first[0],
        this.opts.warmup ?? 0,
        this.opts.deadlineMs,
      ).then(
        () => this.begin(),
        (e: unknown) => this.fail(e),
      );
    });
  }

  private begin(): void {
    this.t0 = this.clock.monotonic();
    this.startedAtMs = this.clock.now();
    this.opts.signal?.addEventListener("abort", this.onAbort, { once: true });
    if (this.opts.signal?.aborted) this.stopped = true;
    this.opts.onStart?.(this.startedAtMs);
    this.merge.start(this.stopped);
  }

  setRateMultiplier(m: number): void {
    this.merge.setRateMultiplier(m);
  }

  setClientDisconnect(spec: ClientDisconnectSpec | null): boolean {
    this.cutter.set(spec);
    return true;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.retries?.dropPending();
    this.merge.stop();
  }

  private readonly issueHooks: IssueHooks = {
    now: this.now,
    arrival: (intended) => this.gate.admit(this.log.add(intended, this.pickTemplate())),
    retry: (p: PendingRetry) => {
      const row = this.log.add(p.at, p.template);
      this.retries?.sent(p, row);
      this.gate.admit(row);
    },
    issuingOver: () => this.maybeDone(),
  };

  private readonly gateHooks: GateHooks = {
    now: this.now,
    deadlineOf: (row) => this.log.intended(row) + this.opts.deadlineMs,
    send: (row, now) => this.send(row, now),
    expire: (row, deadline) => this.record(row, deadline, OUTCOME_CODE.timeout, 0, 0),
    episode: (message) => this.emit("max-in-flight", message),
  };

  /** Hands `row` to undici; `now` (run time) is its actual send time. */
  private send(row: number, now: number): void {
    this.log.setSent(row, now);
    const retry = this.retries?.isRetry(row) ?? false;
    const template = this.log.template(row);
    const req = this.table.request(template, retry);
    const deadlineAt = this.log.intended(row) + this.opts.deadlineMs;
    const attempt = new Attempt(row, deadlineAt, req, this.sink, this.cutter.cutAfter(req), this.opts.levels);
    this.deadlines.watch(attempt);
    const via = this.handOver;
    this.handOver = null;
    this.connections.dispatch(this.table.dispatch(template, retry), attempt, via);
  }

  private readonly sink: AttemptSink = {
    now: this.now,
    firstByte: (row, t) => this.log.setFirstByte(row, t),
    settle: (a, end, outcome) => {
      this.deadlines.settled(a);
      this.record(a.row, end, OUTCOME_CODE[outcome], a.status, a.bytes);
      if (outcome === "shed") this.retryLater(a, end);
      this.handOver = a.completed ? a.client : null;
      this.gate.release();
      this.handOver = null;
      this.maybeDone();
    },
  };

  /** Books the retry a shed answer asks for, waking the merge if it is now the earliest. */
  private retryLater(a: Attempt, end: number): void {
    if (this.retries === null) return;
    const wait = retryAfterMs(a.retryAfter, this.clock.now());
    const at = this.retries.shed(a.row, this.log.template(a.row), end, wait, !this.stopped);
    if (at !== undefined) this.merge.booked(at);
  }

  private record(row: number, end: number, code: number, status: number, bytes: number): void {
    this.log.finish(row, end, code, status, bytes);
    this.live.record(end, code, end - this.log.intended(row));
  }

  private emit(kind: RunEvent["kind"], message: string): void {
    const event: RunEvent = { tMs: this.now(), kind, message };
    this.events.push(event);
    this.opts.onEvent?.(event);
  }

  private maybeDone(): void {
    const retriesDue = (this.retries?.pendingCount ?? 0) > 0;
    if (!this.merge.arrivalsDone || retriesDue || !this.gate.idle) return;
    if (this.finishing) return;
    this.finishing = true;
    this.deadlines.stop();
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    const durationMs = this.now();
    this.connections.close().then(
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
    const now = this.now();
    return {
      elapsedMs: now,
      rateMultiplier: this.schedule.rateMultiplier,
      scheduled: this.log.length,
      inFlight: this.gate.inFlight,
      queued: this.gate.queued,
      maxInFlightHits: this.gate.hits,
      totals: { ...this.live.totals },
      lastSeconds: this.live.lastSeconds(now, 10),
      recentLatency: this.live.recentLatency(),
    };
  }

  private result(durationMs: number): LoadResult {
    return loadResult(this.log, this.writer, {
      plan: this.plan,
      templates: this.table.first.map((p) => p.label),
      startedAtMs: this.startedAtMs,
      durationMs,
      maxInFlightHits: this.gate.hits,
      expiredUnsent: this.gate.expired,
      events: this.events,
      stopped: this.stopped,
      retries: this.retries?.log() ?? null,
    });
  }
}
