import type { Clock } from "../../common/clock.js";
import { FaultJournal } from "../faults/journal.js";
import { errorText } from "../faults/occurrence-steps.js";
import type { TargetHandles } from "../faults/injector.js";
import {
  FaultScheduler,
  type FaultOccurrence,
  type RevertAllReport,
  type SchedulerEvent,
} from "../faults/scheduler.js";
import {
  compileLoadPlan,
  levelMarking,
  startLoad,
  type LoadHandle,
  type LoadPlan,
  type LoadResult,
} from "../load/index.js";
import type { RunEvent } from "../record/schema.js";
import { buildPlan, plannedTimeline } from "../scenario/plan.js";
import type { Scenario } from "../scenario/schema.js";
import { AbortMonitor } from "./abort.js";
import { MetricsScraper, type MetricSnapshot } from "./scraper.js";

export interface ExecuteInput {
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly clientUrl: string;
  /** /metrics URL of the target (not through the client link). */
  readonly metricsUrl: string | null;
  readonly targets: Readonly<Record<string, TargetHandles>>;
  readonly journalDir: string;
  /** Aborted on SIGINT/SIGTERM: stop the load, revert everything at once. */
  readonly interrupt: AbortSignal;
  readonly onEvent: (e: RunEvent) => void;
  /** Where the built-in generator streams its per-request columns (runDir/requests.bin). */
  readonly requestsFile?: string;
  /** Who sends the load (load.driver); default the built-in generator. */
  readonly startLoad?: typeof startLoad;
  /** Called once the load's time origin is set, with the live handle (for progress). */
  readonly onStart?: (
    originMs: number,
    load: LoadHandle,
    live: { scheduler: FaultScheduler; plan: LoadPlan },
  ) => void;
}

export interface ExecuteResult {
  readonly load: LoadResult;
  readonly occurrences: readonly FaultOccurrence[];
  readonly reverts: RevertAllReport;
  readonly metrics: readonly MetricSnapshot[];
  /** Abort-condition reason, when one was met. */
  readonly aborted: string | null;
  readonly interrupted: boolean;
  /** What interrupted it: "SIGINT", "SIGTERM", "q" or "a" (the dashboard), ...; null when nothing did. */
  readonly interruptedBy: string | null;
  /** Ms from the origin at which the load was stopped early (interrupt or abort); null: it ran its plan. */
  readonly stoppedAtMs: number | null;
}

/**
 * The run proper: load and fault timeline on one clock and one time origin (the load's), the
 * metrics scraper and the abort monitor on their own periods. Every exit path (end of load,
 * abort condition, interrupt, error) goes through the scheduler's revertAll.
 */
export async function executeRun(input: ExecuteInput): Promise<ExecuteResult> {
  const run = new Execution(input);
  return run.execute();
}

const NO_COUNTS = { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 };

class Execution {
  private origin = 0;
  private load: LoadHandle | null = null;
  private aborted: string | null = null;
  private stoppedAtMs: number | null = null;
  private readonly scheduler: FaultScheduler;
  private readonly scraper: MetricsScraper | null;
  private readonly monitor: AbortMonitor;
  private readonly plan: LoadPlan;

  constructor(private readonly input: ExecuteInput) {
    const { scenario: s, clock } = input;
    this.plan = compileLoadPlan({ ...s.load, seed: s.seed });
    // The plan `faultline plan` prints is the timeline that runs (one expansion, no second one).
    this.scheduler = new FaultScheduler(plannedTimeline(buildPlan(s)), {
      clock,
      journal: new FaultJournal(input.journalDir),
      targets: input.targets,
      seed: s.seed,
      load: {
        setRateMultiplier: (m) => this.load?.setRateMultiplier(m),
        setClientDisconnect: (spec) => this.load?.setClientDisconnect?.(spec) ?? false,
      },
      onEvent: (e) => input.onEvent(schedulerEvent(e, this.origin)),
    });
    this.scraper = input.metricsUrl
      ? new MetricsScraper({
          url: input.metricsUrl,
          intervalMs: s.scrapeInterval,
          clock,
          originMs: () => this.origin,
          onEvent: input.onEvent,
        })
      : null;
    this.monitor = new AbortMonitor({
      conditions: s.abort,
      plannedRequests: this.plan.expectedRequests,
      clock,
      periodMs: 250,
      view: () => this.load?.snapshot() ?? { elapsedMs: 0, totals: NO_COUNTS, lastSeconds: [] },
      onAbort: (reason) => this.stopEverything(reason),
    });
  }

  private rel(): number {
    return this.origin === 0 ? 0 : this.input.clock.now() - this.origin;
  }

  private stopEverything(reason: string | null): void {
    if (reason !== null) this.aborted = reason;
    this.stoppedAtMs ??= this.rel();
    const why = reason ?? "interrupted";
    this.input.onEvent({
      tMs: this.rel(),
      kind: "abort",
      message: `${why}: faults rolled back, load stopped`,
    });
    this.load?.stop();
    void this.scheduler.revertAll();
  }

  async execute(): Promise<ExecuteResult> {
    const { input } = this;
    const onInterrupt = (): void => this.stopEverything(null);
    input.interrupt.addEventListener("abort", onInterrupt, { once: true });
    try {
      this.load = (input.startLoad ?? startLoad)(this.plan, {
        baseUrl: input.clientUrl,
        deadlineMs: input.scenario.load.deadline,
        maxInFlight: input.scenario.load.maxInFlight,
        honourRetryAfter: input.scenario.load.honourRetryAfter,
        levels: levelMarking(input.scenario.target.levels),
        clock: input.clock,
        warmup: 5,
        ...(input.requestsFile === undefined ? {} : { requestsFile: input.requestsFile }),
        signal: input.interrupt,
        onEvent: input.onEvent,
        onStart: (t) => this.onStart(t),
      });
      const result = await this.load.done;
      return { load: result, ...(await this.finish()) };
    } finally {
      input.interrupt.removeEventListener("abort", onInterrupt);
      await this.finish();
    }
  }

  private onStart(t: number): void {
    this.origin = t;
    this.scheduler.start();
    this.scraper?.start();
    this.monitor.start();
    if (this.load) this.input.onStart?.(t, this.load, { scheduler: this.scheduler, plan: this.plan });
  }

  /** Idempotent: revertAll and the scraper's stop both are. */
  private async finish(): Promise<Omit<ExecuteResult, "load">> {
    this.monitor.stop();
    const reverts = await this.scheduler.revertAll();
    const metrics = (await this.scraper?.stop()) ?? [];
    return {
      occurrences: this.scheduler.occurrences(),
      reverts,
      metrics,
      aborted: this.aborted,
      interrupted: this.input.interrupt.aborted,
      interruptedBy: this.input.interrupt.aborted ? errorText(this.input.interrupt.reason) : null,
      stoppedAtMs: this.stoppedAtMs,
    };
  }
}

function schedulerEvent(e: SchedulerEvent, origin: number): RunEvent {
  const tMs = origin === 0 ? 0 : e.atMs - origin;
  const faultId = e.occurrence.faultId;
  switch (e.type) {
    case "injected":
      return {
        tMs,
        kind: "fault-injected",
        faultId,
        message: e.occurrence.description || `${e.occurrence.kind} on ${e.occurrence.target}`,
      };
    case "reverted":
      return { tMs, kind: "fault-reverted", faultId, message: `reverted ${e.occurrence.description}` };
    case "error":
      return { tMs, kind: "fault-error", faultId, message: e.message };
    default: {
      const never: never = e;
      return never;
    }
  }
}
