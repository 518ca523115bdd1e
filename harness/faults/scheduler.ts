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

export type OccurrenceStatus =
  "planned" | "injecting" | "active" | "done" | "reverted" | "failed" | "skipped";

/** One occurrence of a fault as it happened (for the run record's faults[] and events). */
export interface FaultOccurrence {
  readonly occurrenceId: string;
  /** Scenario fault id; repeats get `#2`, `#3`...; manual faults `manual-N`. */
  readonly faultId: string;
  readonly kind: string;
  readonly target: string;
  readonly params: Readonly<Record<string, unknown>>;
  description: string;
  /** Planned times on the timeline (ms from start, pauses excluded); end null = instant or held to the end. */
  readonly plannedStartMs: number;
  readonly plannedEndMs: number | null;
  /** clock.now() when inject returned / when revert returned; null if it never happened. */
  injectedAtMs: number | null;
  revertedAtMs: number | null;
  status: OccurrenceStatus;
  error?: string;
  revertError?: string;
  readonly manual: boolean;
}

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
  readonly rec: FaultOccurrence;
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
    if (this.closing) slot.rec.status = "skipped";
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
    for (const s of this.slots) if (s.rec.status === "planned") s.rec.status = "skipped";
    const reverted: string[] = [];
    const failed: { occurrenceId: string; error: string }[] = [];
    for (const slot of [...this.slots].reverse()) {
      await slot.busy;
      if (slot.rec.status !== "active" && !(slot.rec.status === "failed" && slot.rec.revertError)) continue;
      await this.revertOnce(slot);
      if ((slot.rec.status as OccurrenceStatus) === "reverted") reverted.push(slot.rec.occurrenceId);
      else failed.push({ occurrenceId: slot.rec.occurrenceId, error: slot.rec.revertError ?? "unknown" });
    }
    return { reverted, failed };
  }

  private plan(f: TimelineFault, manual: boolean): Slot {
    const injector = this.registry[f.kind];
    if (!injector) throw new InvalidInputError([{ path: "kind", message: `unknown fault kind "${f.kind}"` }]);
    const safeId = f.id.replace(/[^A-Za-z0-9._-]/g, ".");
    const rec: FaultOccurrence = {
      occurrenceId: `${this.runTag}-${safeId}`,
      faultId: f.id,
      kind: f.kind,
      target: f.target,
      params: f.params,
      description: "",
      plannedStartMs: f.startMs,
      plannedEndMs: f.durationMs === null ? null : f.startMs + f.durationMs,
      injectedAtMs: null,
      revertedAtMs: null,
      status: "planned",
      manual,
    };
    const parsed = injector.params.safeParse(f.params);
    if (parsed.success) rec.description = injector.describe(parsed.data, f.target);
    const slot: Slot = { rec, injector, state: null, busy: Promise.resolve(), reverting: null };
    this.slots.push(slot);
    return slot;
  }

  private runSlot(slot: Slot, durationMs: number | null): void {
    slot.busy = this.injectSlot(slot, durationMs).catch((e: unknown) => this.fail(slot, errorText(e)));
  }

  private async injectSlot(slot: Slot, durationMs: number | null): Promise<void> {
    const { rec, injector } = slot;
    rec.status = "injecting";
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
    rec.injectedAtMs = this.opts.clock.now();
    const instant = injector.isInstant(params);
    rec.status = instant ? "done" : "active";
    if (instant) await this.opts.journal.remove(rec.occurrenceId);
    this.emit({ type: "injected", atMs: rec.injectedAtMs, occurrence: rec });
    if (!instant && durationMs !== null && !this.closing) {
      const end = Math.max(this.timeline.now(), rec.plannedStartMs + durationMs);
      this.timeline.at(end, () => void this.revertOne(rec.occurrenceId));
    }
  }

  private async revertSlot(slot: Slot): Promise<void> {
    const { rec } = slot;
    if (rec.status !== "active" && !(rec.status === "failed" && rec.revertError)) return;
    const ctx = { clock: this.opts.clock, load: this.opts.load };
    const error = await revertStep(this.opts.journal, slot.injector, rec.occurrenceId, slot.state, ctx);
    if (error !== null) {
      rec.revertError = error;
      rec.status = "failed";
      this.emit({
        type: "error",
        atMs: this.opts.clock.now(),
        occurrence: rec,
        message: `revert failed: ${error}`,
      });
      return;
    }
    delete rec.revertError;
    rec.status = "reverted";
    rec.revertedAtMs = this.opts.clock.now();
    this.emit({ type: "reverted", atMs: rec.revertedAtMs, occurrence: rec });
  }

  private fail(slot: Slot, error: string): void {
    slot.rec.status = "failed";
    slot.rec.error = error;
    this.emit({ type: "error", atMs: this.opts.clock.now(), occurrence: slot.rec, message: error });
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // a listener must never break rollback
    }
  }
}
