import { randomBytes } from "node:crypto";
import type { Clock } from "../../common/clock.js";
import { InvalidInputError } from "../../common/errors.js";
import type { AnyInjector, FaultContext, JsonValue, TargetHandles } from "./injector.js";
import type { FaultJournal } from "./journal.js";
import { errorText, injectStep, revertStep } from "./occurrence-steps.js";
import { FAULT_KINDS } from "./registry.js";
import { occurrenceRandom } from "./seeded.js";
import { expandTimeline } from "./expand-timeline.js";
import { Timeline } from "./timeline.js";
import { validateFault, type TimelineFault } from "./validate.js";

// Re-exported: the scheduler and `faultline plan` share this one expansion.
export { expandTimeline } from "./expand-timeline.js";

/** What an occurrence is in every state: the fault as planned. */
interface OccurrenceBase {
  readonly occurrenceId: string;
  /** Scenario fault id; repeats get `#2`, `#3`...; manual faults `manual-N`. */
  readonly faultId: string;
  readonly kind: string;
  readonly target: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly description: string;
  /** Planned times on the timeline (ms from start, pauses excluded); end null = instant or held to the end. */
  readonly plannedStartMs: number;
  readonly plannedEndMs: number | null;
  readonly manual: boolean;
}

/*
 * One member per state, each carrying only what that state has (as cockatiel models its
 * states). The two times are in every member, typed null where the state has none, because
 * the run record writes both for every fault; the error texts are only where a step failed
 * (`?: never` elsewhere lets code read them off any occurrence without narrowing first).
 * injectedAtMs / revertedAtMs: clock.now() when inject / revert returned.
 */

/** Not injected: planned, never begun (the run ended first: skipped), or inject in progress. */
export interface PendingOccurrence extends OccurrenceBase {
  readonly status: "planned" | "skipped" | "injecting";
  readonly injectedAtMs: null;
  readonly revertedAtMs: null;
  readonly error?: never;
  readonly revertError?: never;
}

/** In effect (active), or an instant fault that acted and needs no revert (done). */
export interface InjectedOccurrence extends OccurrenceBase {
  readonly status: "active" | "done";
  readonly injectedAtMs: number;
  readonly revertedAtMs: null;
  readonly error?: never;
  readonly revertError?: never;
}

export interface RevertedOccurrence extends OccurrenceBase {
  readonly status: "reverted";
  readonly injectedAtMs: number;
  readonly revertedAtMs: number;
  readonly error?: never;
  readonly revertError?: never;
}

/** Inject failed (what it did was undone, or the undo failure is in `error`); nothing to revert. */
export interface InjectFailedOccurrence extends OccurrenceBase {
  readonly status: "failed";
  readonly failedIn: "inject";
  /** Set when the failure came after inject returned (its journal step). */
  readonly injectedAtMs: number | null;
  readonly revertedAtMs: null;
  readonly error: string;
  readonly revertError?: never;
}

/** Revert failed: still in effect, journal entry kept; revertAll and `faultline cleanup` retry it. */
export interface RevertFailedOccurrence extends OccurrenceBase {
  readonly status: "failed";
  readonly failedIn: "revert";
  readonly injectedAtMs: number;
  readonly revertedAtMs: null;
  readonly error?: never;
  readonly revertError: string;
}

/** One occurrence of a fault as it happened (for the run record's faults[] and events). */
export type FaultOccurrence =
  | PendingOccurrence
  | InjectedOccurrence
  | RevertedOccurrence
  | InjectFailedOccurrence
  | RevertFailedOccurrence;

export type OccurrenceStatus = FaultOccurrence["status"];

/** The failed step's error text; undefined unless the occurrence failed. */
export function occurrenceError(o: FaultOccurrence): string | undefined {
  if (o.status !== "failed") return undefined;
  return o.failedIn === "inject" ? o.error : o.revertError;
}

/** Occurrences a revert applies to: in effect, or a revert that failed and may be retried. */
type Revertible = (InjectedOccurrence & { readonly status: "active" }) | RevertFailedOccurrence;

const revertible = (o: FaultOccurrence): o is Revertible =>
  o.status === "active" || (o.status === "failed" && o.failedIn === "revert");

export type SchedulerEvent =
  | { readonly type: "injected" | "reverted"; readonly atMs: number; readonly occurrence: FaultOccurrence }
  | {
      readonly type: "error";
      readonly atMs: number;
      readonly occurrence: FaultOccurrence;
      readonly message: string;
    };

export interface SchedulerOptions {
  readonly clock: Clock;
  readonly journal: FaultJournal;
  /** Handles per scenario target name ("worker", "gpu", "link:api", "load", ...). */
  readonly targets: Readonly<Record<string, TargetHandles>>;
  readonly seed: number;
  readonly load?: FaultContext["load"];
  readonly registry?: Readonly<Record<string, AnyInjector>>;
  readonly onEvent?: (e: SchedulerEvent) => void;
}

export interface RevertAllReport {
  readonly reverted: readonly string[];
  readonly failed: readonly { readonly occurrenceId: string; readonly error: string }[];
}

interface Slot {
  readonly base: OccurrenceBase;
  /** Replaced at each step, never changed in place: a reader holds a consistent state. */
  rec: FaultOccurrence;
  readonly injector: AnyInjector;
  state: JsonValue;
  /** The step in progress (inject, then revert), so revertAll can wait for it. */
  busy: Promise<void>;
  /** A revert in progress: a second caller joins it instead of reverting twice. */
  reverting: Promise<void> | null;
}

/**
 * Runs a fault timeline on the injected clock: inject at start, revert at start + duration,
 * every step journaled. `revertAll()` is the one exit path for normal end, error, abort,
 * Ctrl-C and SIGTERM: safe to call at any time and any number of times.
 */
export class FaultScheduler {
  private readonly timeline: Timeline;
  private readonly registry: Readonly<Record<string, AnyInjector>>;
  private readonly slots: Slot[] = [];
  private readonly abort = new AbortController();
  private readonly runTag = randomBytes(3).toString("hex");
  private manualCount = 0;
  private closing: Promise<RevertAllReport> | null = null;

  constructor(
    private readonly faults: readonly TimelineFault[],
    private readonly opts: SchedulerOptions,
  ) {
    this.timeline = new Timeline(opts.clock);
    this.registry = opts.registry ?? FAULT_KINDS;
    const issues = faults.flatMap((f, i) =>
      validateFault(f, Object.keys(opts.targets), `faults[${i}]`, this.registry),
    );
    if (issues.length > 0) throw new InvalidInputError(issues);
  }

  /** Starts the timeline: t = 0 is now. */
  start(): void {
    if (this.timeline.started || this.closing) return;
    for (const f of expandTimeline(this.faults)) {
      const slot = this.plan(f, false);
      this.timeline.at(f.startMs, () => this.runSlot(slot, f.durationMs));
    }
    this.timeline.start();
  }

  pause(): void {
    this.timeline.pause();
  }

  resume(): void {
    this.timeline.resume();
  }

  get paused(): boolean {
    return this.timeline.paused;
  }

  /** Timeline time in ms (pauses excluded). */
  now(): number {
    return this.timeline.now();
  }

  /** Resolves when no inject or revert is in progress (steps started later are not awaited). */
  async settled(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.busy));
  }

  occurrences(): readonly FaultOccurrence[] {
    return this.slots.map((s) => s.rec);
  }

  /** A manual fault (dashboard picker), injected at once; resolves when inject finished. */
  async injectNow(
    kind: string,
    target: string,
    params: Readonly<Record<string, unknown>>,
    durationMs: number | null = null,
  ): Promise<FaultOccurrence> {
    const f: TimelineFault = {
      id: `manual-${++this.manualCount}`,
      kind,
      target,
      params,
      startMs: this.now(),
      durationMs,
    };
    const issues = validateFault(f, Object.keys(this.opts.targets), "", this.registry);
    if (issues.length > 0) throw new InvalidInputError(issues);
    const slot = this.plan(f, true);
    if (this.closing) slot.rec = pending(slot.base, "skipped");
    else this.runSlot(slot, durationMs);
    await slot.busy;
    return slot.rec;
  }

  /** Reverts one active occurrence now (a manual fault held without a duration). */
  async revertOne(occurrenceId: string): Promise<void> {
    const slot = this.slots.find((s) => s.rec.occurrenceId === occurrenceId);
    if (!slot) return;
    await slot.busy;
    await this.revertOnce(slot);
  }

  private revertOnce(slot: Slot): Promise<void> {
    slot.reverting ??= this.revertSlot(slot).finally(() => {
      slot.reverting = null;
    });
    slot.busy = slot.reverting;
    return slot.reverting;
  }

  /** Stops the timeline and reverts every active fault, newest first. Idempotent. */
  revertAll(): Promise<RevertAllReport> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<RevertAllReport> {
    this.timeline.stop();
    this.abort.abort(new Error("fault scheduler is reverting all faults"));
    for (const s of this.slots) if (s.rec.status === "planned") s.rec = pending(s.base, "skipped");
    const reverted: string[] = [];
    const failed: { occurrenceId: string; error: string }[] = [];
    for (const slot of [...this.slots].reverse()) {
      await slot.busy;
      const before = slot.rec;
      if (!revertible(before)) continue;
      await this.revertOnce(slot);
      const after = slot.rec;
      if (after.status === "reverted") reverted.push(after.occurrenceId);
      else failed.push({ occurrenceId: after.occurrenceId, error: after.revertError ?? "unknown" });
    }
    return { reverted, failed };
  }

  private plan(f: TimelineFault, manual: boolean): Slot {
    const injector = this.registry[f.kind];
    if (!injector) throw new InvalidInputError([{ path: "kind", message: `unknown fault kind "${f.kind}"` }]);
    const safeId = f.id.replace(/[^A-Za-z0-9._-]/g, ".");
    const parsed = injector.params.safeParse(f.params);
    const base: OccurrenceBase = {
      occurrenceId: `${this.runTag}-${safeId}`,
      faultId: f.id,
      kind: f.kind,
      target: f.target,
      params: f.params,
      description: parsed.success ? injector.describe(parsed.data, f.target) : "",
      plannedStartMs: f.startMs,
      plannedEndMs: f.durationMs === null ? null : f.startMs + f.durationMs,
      manual,
    };
    const rec = pending(base, "planned");
    const slot: Slot = { base, rec, injector, state: null, busy: Promise.resolve(), reverting: null };
    this.slots.push(slot);
    return slot;
  }

  private runSlot(slot: Slot, durationMs: number | null): void {
    slot.busy = this.injectSlot(slot, durationMs).catch((e: unknown) => this.fail(slot, errorText(e)));
  }

  private async injectSlot(slot: Slot, durationMs: number | null): Promise<void> {
    const { base: rec, injector } = slot;
    slot.rec = pending(rec, "injecting");
    const params: unknown = injector.params.parse(rec.params);
    const outcome = await injectStep(this.opts.journal, {
      occurrenceId: rec.occurrenceId,
      faultId: rec.faultId,
      kind: rec.kind,
      target: rec.target,
      params,
      injector,
      handles: this.opts.targets[rec.target] ?? {},
      clock: this.opts.clock,
      random: occurrenceRandom(this.opts.seed, rec.faultId),
      signal: this.abort.signal,
      load: this.opts.load,
    });
    if (!outcome.ok) return this.fail(slot, outcome.error);
    slot.state = outcome.state;
    const injectedAtMs = this.opts.clock.now();
    const instant = injector.isInstant(params);
    slot.rec = { ...rec, status: instant ? "done" : "active", injectedAtMs, revertedAtMs: null };
    if (instant) await this.opts.journal.remove(rec.occurrenceId);
    this.emit({ type: "injected", atMs: injectedAtMs, occurrence: slot.rec });
    if (!instant && durationMs !== null && !this.closing) {
      const end = Math.max(this.timeline.now(), rec.plannedStartMs + durationMs);
      this.timeline.at(end, () => void this.revertOne(rec.occurrenceId));
    }
  }

  private async revertSlot(slot: Slot): Promise<void> {
    const rec = slot.rec;
    if (!revertible(rec)) return;
    const { base } = slot;
    const ctx = { clock: this.opts.clock, load: this.opts.load };
    const error = await revertStep(this.opts.journal, slot.injector, rec.occurrenceId, slot.state, ctx);
    if (error !== null) {
      const failed: RevertFailedOccurrence = {
        ...base,
        status: "failed",
        failedIn: "revert",
        injectedAtMs: rec.injectedAtMs,
        revertedAtMs: null,
        revertError: error,
      };
      slot.rec = failed;
      this.emit({
        type: "error",
        atMs: this.opts.clock.now(),
        occurrence: failed,
        message: `revert failed: ${error}`,
      });
      return;
    }
    const revertedAtMs = this.opts.clock.now();
    slot.rec = { ...base, status: "reverted", injectedAtMs: rec.injectedAtMs, revertedAtMs };
    this.emit({ type: "reverted", atMs: revertedAtMs, occurrence: slot.rec });
  }

  private fail(slot: Slot, error: string): void {
    const failed: InjectFailedOccurrence = {
      ...slot.base,
      status: "failed",
      failedIn: "inject",
      injectedAtMs: slot.rec.injectedAtMs,
      revertedAtMs: null,
      error,
    };
    slot.rec = failed;
    this.emit({ type: "error", atMs: this.opts.clock.now(), occurrence: failed, message: error });
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // a listener must never break rollback
    }
  }
}

function pending(base: OccurrenceBase, status: PendingOccurrence["status"]): PendingOccurrence {
  return { ...base, status, injectedAtMs: null, revertedAtMs: null };
}
