import type { JudgedLevel } from "../sla/index.js";
import type { LiveFaultTimes, UptimeView } from "./levels.js";
import type { OutcomeCounts } from "../../common/outcome.js";
import type { OccurrenceStatus } from "../faults/scheduler.js";

/**
 * What one dashboard frame shows: plain data, computed by a DashboardSource on the
 * dashboard's own period and rendered by pure components. Nothing here refers to the live
 * objects, so a frame can be built by hand in a test and its rendering compared exactly.
 */
export interface RateView {
  /** Requests/s the plan asks for right now, multiplier included. */
  readonly target: number;
  /** Requests/s actually sent over the last ~2 s. */
  readonly achieved: number;
  readonly multiplier: number;
  readonly inFlight: number;
}

export interface LatencyView {
  /** Intended-time latency over the last 1,024 completions (ms). */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** One P99 per elapsed second, oldest first (sparkline). */
  readonly history: readonly (number | null)[];
}

export interface BudgetView {
  readonly requests: number;
  /** Good at the budget's level (the first availability SLO's, default full). */
  readonly good: number;
  /** Good at each level, side by side: any good answer / the primary model's only. */
  readonly answered: number;
  readonly full: number;
  readonly level: JudgedLevel;
  /** SLO the budget is counted against (first availability SLO, else 99.9%). */
  readonly slo: number;
  /** (1 - slo) x requests so far. */
  readonly budget: number;
  readonly bad: number;
}

export type SloState = "meeting" | "breaching" | "pending";

export interface SloStanding {
  readonly id: string;
  readonly state: SloState;
  /** e.g. "99.950% >= 99.900%" or "judged at end". */
  readonly detail: string;
}

export interface FaultRow {
  readonly id: string;
  readonly kind: string;
  readonly target: string;
  readonly description: string;
  readonly status: OccurrenceStatus;
  /** Timeline ms (pauses excluded). */
  readonly startMs: number;
  readonly endMs: number | null;
  readonly manual: boolean;
}

export interface TimelineView {
  readonly paused: boolean;
  /** Timeline time now (ms, pauses excluded). */
  readonly nowMs: number;
  readonly faults: readonly FaultRow[];
}

export type BreakerState = "closed" | "open" | "half-open";

export interface HealthView {
  /** null: not known (no health source, or the last probe failed to answer). */
  readonly ready: boolean | null;
  readonly workerUp: boolean | null;
  readonly breakers: readonly { readonly name: string; readonly state: BreakerState }[];
  readonly restarts: number | null;
  readonly vramUsedBytes: number | null;
  readonly vramTotalBytes: number | null;
}

export interface DashboardFrame {
  readonly title: string;
  readonly elapsedMs: number;
  /** null: no planned end (game day). */
  readonly plannedMs: number | null;
  readonly rate: RateView;
  /** Outcomes of the last whole second. */
  readonly perSecond: OutcomeCounts;
  readonly latency: LatencyView;
  readonly budget: BudgetView;
  /** Live uptime at both levels (the first uptime SLO's windows and threshold, else 1 s / 99%). */
  readonly uptime: UptimeView;
  /** The latest finished fault's times at one-second resolution; null before one finished. */
  readonly lastFault: LiveFaultTimes | null;
  readonly slos: readonly SloStanding[];
  readonly timeline: TimelineView;
  readonly health: HealthView;
}

/** Read-only view of a run, read on the dashboard's own period; read() must be cheap and synchronous. */
export interface DashboardSource {
  read(): DashboardFrame;
}

/** What the keys do; the dashboard never reaches into the run otherwise. */
export interface DashboardControls {
  /** q / Ctrl-C: stop load, roll faults back, write the record. */
  stopGracefully(): void;
  /** a: stop now (faults are still rolled back). */
  abortNow(): void;
  /** f picker: a manual fault, recorded like any other; rejects with a user-facing message. */
  injectFault(
    kind: string,
    target: string,
    params: Readonly<Record<string, unknown>>,
    durationMs: number | null,
  ): Promise<void>;
  /** p: pause or resume the fault timeline; returns whether it is now paused. */
  togglePause(): boolean;
}

/** What the `f` picker needs to know about fault kinds (FAULT_KINDS satisfies it). */
export interface PickerKind {
  readonly summary: string;
  readonly targets: readonly string[];
  readonly params: {
    safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: readonly PickerIssue[] } };
  };
  isInstant(params: never): boolean;
}

export interface PickerIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}
