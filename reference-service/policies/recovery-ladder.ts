/**
 * Ordered recovery ladders (write-up 002, "Recovery Strategies"): when the primary fails for a
 * class of reason, the ladder of that class runs its steps in order, each an action followed by
 * another attempt, and stops at the first step whose attempt answered. This module owns the
 * order, the outcome of each step, its counting and the cooldown; the steps themselves are run
 * by the caller (policies/pipeline.ts), which knows the backends.
 *
 * Cooldown (002: "Prevents excessive recovery attempts with configurable cooldown periods"):
 * once a run answered at step i, the runs of that ladder for the next `cooldownMs` start at
 * step i, counting the earlier ones as skipped: they have just failed, and trying them again on
 * every request is the excessive recovery the write-up means. After the cooldown the ladder
 * starts from its first step again. Time comes from the injected Clock.
 */
import type { Clock } from "../../common/clock.js";

/** The write-up's failure types that the reference service really sees (its FailureType values). */
export const LADDER_NAMES = [
  "vram_exhaustion",
  "model_loading_failure",
  "pipeline_error",
  "network_error",
  "system_resource_error",
] as const;
export type LadderName = (typeof LADDER_NAMES)[number];

/**
 * The write-up's RecoveryAction values that have an action here. In the model-loading ladder
 * `retry_model_load` stands for its "retry download": a load failure is retried by loading
 * again. `retry_model_download` (the network ladder) is another try of the primary, which makes
 * the worker start a new download run of a model whose last run failed (gpu/download.ts).
 * `system_health_check` reads the host's CPU and memory (the alert rules' last reading) and tries
 * again only when neither is at its critical threshold any more.
 */
export const LADDER_STEPS = [
  "system_health_check",
  "clear_gpu_cache",
  "retry_model_load",
  "retry_model_download",
  "apply_vram_optimization",
  "restart_pipeline",
  "enable_cpu_offload",
  "reduce_generation_params",
  "fallback_to_mock",
] as const;
export type LadderStep = (typeof LADDER_STEPS)[number];

export const STEP_OUTCOMES = ["answered", "failed", "skipped"] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/** The write-up's order, as quoted in 002 "Recovery Strategies". */
export const DEFAULT_LADDERS: Readonly<Record<LadderName, readonly LadderStep[]>> = {
  // "Clear GPU cache → Apply optimization → Enable CPU offload → Reduce parameters → Fallback to mock"
  vram_exhaustion: [
    "clear_gpu_cache",
    "apply_vram_optimization",
    "enable_cpu_offload",
    "reduce_generation_params",
    "fallback_to_mock",
  ],
  // "Clear GPU cache → Retry download → Apply VRAM optimization → Fallback to mock"
  model_loading_failure: [
    "clear_gpu_cache",
    "retry_model_load",
    "apply_vram_optimization",
    "fallback_to_mock",
  ],
  // "Clear GPU cache → Restart pipeline → Apply optimization → Fallback to mock"
  pipeline_error: ["clear_gpu_cache", "restart_pipeline", "apply_vram_optimization", "fallback_to_mock"],
  // "Retry model download → Fallback to mock"
  network_error: ["retry_model_download", "fallback_to_mock"],
  // "System health check → Clear GPU cache → Fallback to mock"
  system_resource_error: ["system_health_check", "clear_gpu_cache", "fallback_to_mock"],
};

/**
 * 002's "System Resource Errors": a failure of the primary that would climb a ladder climbs
 * this one instead while a host resource (recovery.systemResources, default memory) is at its
 * critical threshold (alerts.memoryCriticalAbove / cpuCriticalAbove, 95%): the cause is then the
 * machine, not the model.
 */
export const SYSTEM_RESOURCE_LADDER: LadderName = "system_resource_error";

/** Which ladder a failure of the primary climbs, by its code (backend-errors.ts); null = none. */
export const LADDER_OF_FAILURE: Readonly<Record<string, LadderName>> = {
  gpu_out_of_memory: "vram_exhaustion",
  model_load_failed: "model_loading_failure",
  worker_unavailable: "pipeline_error",
  ipc_corrupt_frame: "pipeline_error",
  model_download_failed: "network_error",
};

export interface LadderConfig {
  readonly cooldownMs: number;
  readonly ladders: Readonly<Record<LadderName, readonly LadderStep[]>>;
}

/** What one step did: it answered (with the value), or was skipped (and why). A failure throws. */
export type StepResult<T> =
  { readonly outcome: "answered"; readonly value: T } | { readonly outcome: "skipped"; readonly why: string };

export type StepRunner<T> = (step: LadderStep) => Promise<StepResult<T>>;

export interface LadderObserver {
  step(ladder: LadderName, step: LadderStep, outcome: StepOutcome): void;
}

export interface LadderRun<T> {
  readonly ladder: LadderName;
  /** The step that answered. */
  readonly step: LadderStep;
  readonly value: T;
}

/** Thrown when every step failed or was skipped: carries the last failure (or the original cause). */
export class LadderExhaustedError extends Error {
  constructor(
    readonly ladder: LadderName,
    readonly lastError: unknown,
  ) {
    super(`recovery ladder ${ladder} ran out of steps`);
    this.name = "LadderExhaustedError";
  }
}

interface LadderState {
  readonly counts: Map<LadderStep, Record<StepOutcome, number>>;
  runs: number;
  lastRunAtMs: number | null;
  lastAnswered: LadderStep | null;
  /** Index to start from while `cooldownUntilMs` has not passed. */
  resumeIndex: number;
  cooldownUntilMs: number | null;
}

export interface LadderStatus {
  readonly name: LadderName;
  /** Failure codes that start it. */
  readonly failures: readonly string[];
  readonly steps: readonly { readonly step: LadderStep; readonly outcomes: Record<StepOutcome, number> }[];
  readonly runs: number;
  readonly lastRunAtMs: number | null;
  readonly lastAnsweredStep: LadderStep | null;
  /** The step the next run starts at, and until when (null = its first step, no cooldown). */
  readonly startsAt: LadderStep;
  readonly cooldownUntilMs: number | null;
}

export class RecoveryLadders {
  private readonly state = new Map<LadderName, LadderState>();

  constructor(
    private readonly config: LadderConfig,
    private readonly clock: Clock,
    private readonly observer?: LadderObserver,
  ) {
    for (const name of LADDER_NAMES) {
      const counts = new Map<LadderStep, Record<StepOutcome, number>>();
      for (const step of config.ladders[name]) counts.set(step, { answered: 0, failed: 0, skipped: 0 });
      this.state.set(name, {
        counts,
        runs: 0,
        lastRunAtMs: null,
        lastAnswered: null,
        resumeIndex: 0,
        cooldownUntilMs: null,
      });
    }
  }

  /** The ladder a failure code climbs, or null. */
  ladderFor(code: string): LadderName | null {
    return LADDER_OF_FAILURE[code] ?? null;
  }

  steps(ladder: LadderName): readonly LadderStep[] {
    return this.config.ladders[ladder];
  }

  /**
   * Runs `ladder`'s steps in order from its start (see the cooldown above) until one answers.
   * Throws LadderExhaustedError when none did; `cause` is the primary's failure that started it.
   * A failure `fatal` accepts (the client went away, bytes already reached it) ends the run at
   * once and is rethrown as it is: no later step may run then.
   */
  async run<T>(
    ladder: LadderName,
    runStep: StepRunner<T>,
    cause: unknown,
    fatal: (e: unknown) => boolean = () => false,
  ): Promise<LadderRun<T>> {
    const st = this.stateOf(ladder);
    const steps = this.config.ladders[ladder];
    const start = this.startIndex(st);
    st.runs++;
    st.lastRunAtMs = this.clock.now();
    let lastError = cause;
    for (const [i, step] of steps.entries()) {
      if (i < start) {
        this.count(ladder, step, "skipped");
        continue;
      }
      let result: StepResult<T>;
      try {
        result = await runStep(step);
      } catch (e) {
        this.count(ladder, step, "failed");
        if (fatal(e)) throw e;
        lastError = e;
        continue;
      }
      this.count(ladder, step, result.outcome);
      if (result.outcome === "answered") {
        st.lastAnswered = step;
        st.resumeIndex = i;
        st.cooldownUntilMs = i > 0 ? this.clock.now() + this.config.cooldownMs : null;
        return { ladder, step, value: result.value };
      }
    }
    st.lastAnswered = null;
    throw new LadderExhaustedError(ladder, lastError);
  }

  /**
   * Ends every cooldown, so the next run of each ladder starts at its first step again (002's
   * "POST /api/v1/recovery/reset"); the counts stay. Resolves with the ladders that were in one.
   */
  reset(): LadderName[] {
    const ended: LadderName[] = [];
    for (const name of LADDER_NAMES) {
      const st = this.stateOf(name);
      if (this.inCooldown(st)) ended.push(name);
      st.cooldownUntilMs = null;
      st.resumeIndex = 0;
    }
    return ended;
  }

  status(): LadderStatus[] {
    return LADDER_NAMES.map((name) => {
      const st = this.stateOf(name);
      const steps = this.config.ladders[name];
      return {
        name,
        failures:
          name === SYSTEM_RESOURCE_LADDER
            ? ["any failure with a ladder, while a host resource (recovery.systemResources) is critical"]
            : Object.keys(LADDER_OF_FAILURE).filter((code) => LADDER_OF_FAILURE[code] === name),
        steps: steps.map((step) => ({ step, outcomes: { ...st.counts.get(step)! } })),
        runs: st.runs,
        lastRunAtMs: st.lastRunAtMs,
        lastAnsweredStep: st.lastAnswered,
        startsAt: steps[this.startIndex(st)],
        cooldownUntilMs: this.inCooldown(st) ? st.cooldownUntilMs : null,
      };
    });
  }

  private inCooldown(st: LadderState): boolean {
    return st.cooldownUntilMs !== null && this.clock.now() < st.cooldownUntilMs;
  }

  private startIndex(st: LadderState): number {
    return this.inCooldown(st) ? st.resumeIndex : 0;
  }

  private stateOf(ladder: LadderName): LadderState {
    const st = this.state.get(ladder);
    if (!st) throw new Error(`unknown ladder ${ladder}`);
    return st;
  }

  private count(ladder: LadderName, step: LadderStep, outcome: StepOutcome): void {
    const c = this.stateOf(ladder).counts.get(step);
    if (c) c[outcome]++;
    this.observer?.step(ladder, step, outcome);
  }
}
