import { expandTimeline } from "../faults/expand-timeline.js";
import type { TimelineFault } from "../faults/validate.js";
import { rateSegments } from "../load/plan.js";
import type { Scenario } from "./schema.js";

/**
 * The execution plan: a pure function of the scenario (k6's config -> plan -> run). Times are
 * milliseconds from the start of the load. `faultline plan` prints it; the runner executes it.
 */
export interface PlannedStage {
  readonly startMs: number;
  readonly endMs: number;
  readonly fromRate: number;
  readonly toRate: number;
  readonly ramp: boolean;
}

export interface PlannedFault {
  /** Scenario fault id; repeats get `#2`, `#3`... appended. */
  readonly id: string;
  readonly specId: string;
  readonly occurrence: number;
  readonly kind: string;
  readonly target: string;
  readonly startMs: number;
  /** null for an instant fault (a kill). */
  readonly endMs: number | null;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface Plan {
  readonly scenario: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly stages: readonly PlannedStage[];
  readonly faults: readonly PlannedFault[];
  readonly plannedRequests: number;
}

/** Total run length: load.duration, or the sum of the stages. */
export function runDurationMs(load: Scenario["load"]): number {
  if (load.duration !== undefined) return load.duration;
  return (load.stages ?? []).reduce((sum, s) => sum + s.duration, 0);
}

/** The load's rate curve as stages: the same segments the load generator runs. */
export function planStages(load: Scenario["load"]): PlannedStage[] {
  return rateSegments(load).map((seg) => ({
    startMs: seg.startMs,
    endMs: seg.endMs,
    fromRate: seg.r0,
    toRate: seg.r1,
    ramp: seg.r0 !== seg.r1,
  }));
}

/** The scenario's faults as the scheduler's timeline (times in ms, repeats not yet expanded). */
export function timelineOf(faults: Scenario["faults"]): TimelineFault[] {
  return faults.map((f) => ({
    id: f.id,
    kind: f.kind,
    target: f.target,
    params: f.params,
    startMs: f.at,
    durationMs: f.duration ?? null,
    ...(f.repeat ? { repeat: { everyMs: f.repeat.every, times: f.repeat.times } } : {}),
  }));
}

export function expandFaults(faults: Scenario["faults"]): PlannedFault[] {
  return expandTimeline(timelineOf(faults)).map((f) => ({
    id: f.id,
    specId: f.specId,
    occurrence: f.occurrence,
    kind: f.kind,
    target: f.target,
    startMs: f.startMs,
    endMs: f.durationMs === null ? null : f.startMs + f.durationMs,
    params: f.params,
  }));
}

/** The planned occurrences as the timeline the scheduler runs (already expanded: no repeats left). */
export function plannedTimeline(plan: Plan): TimelineFault[] {
  return plan.faults.map((f) => ({
    id: f.id,
    kind: f.kind,
    target: f.target,
    params: f.params,
    startMs: f.startMs,
    durationMs: f.endMs === null ? null : f.endMs - f.startMs,
  }));
}

/** Expected request count: the integral of the rate over the stages (exact for steps and linear ramps). */
export function plannedRequestCount(stages: readonly PlannedStage[]): number {
  let total = 0;
  for (const s of stages) total += (((s.fromRate + s.toRate) / 2) * (s.endMs - s.startMs)) / 1000;
  return Math.round(total);
}

export function buildPlan(scenario: Scenario): Plan {
  const stages = planStages(scenario.load);
  return {
    scenario: scenario.name,
    seed: scenario.seed,
    durationMs: runDurationMs(scenario.load),
    stages,
    faults: expandFaults(scenario.faults),
    plannedRequests: plannedRequestCount(stages),
  };
}
