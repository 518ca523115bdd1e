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

export function planStages(load: Scenario["load"]): PlannedStage[] {
  if (!load.stages) {
    const d = runDurationMs(load);
    return [{ startMs: 0, endMs: d, fromRate: load.rate, toRate: load.rate, ramp: false }];
  }
  const out: PlannedStage[] = [];
  let t = 0;
  let prev = load.rate;
  for (const s of load.stages) {
    out.push({
      startMs: t,
      endMs: t + s.duration,
      fromRate: s.ramp ? prev : s.rate,
      toRate: s.rate,
      ramp: s.ramp,
    });
    t += s.duration;
    prev = s.rate;
  }
  const total = runDurationMs(load);
  if (total > t) out.push({ startMs: t, endMs: total, fromRate: prev, toRate: prev, ramp: false });
  return out;
}

export function expandFaults(faults: Scenario["faults"]): PlannedFault[] {
  const out: PlannedFault[] = [];
  for (const f of faults) {
    const times = f.repeat?.times ?? 1;
    for (let i = 0; i < times; i++) {
      const startMs = f.at + i * (f.repeat?.every ?? 0);
      out.push({
        id: times === 1 ? f.id : `${f.id}#${i + 1}`,
        specId: f.id,
        occurrence: i + 1,
        kind: f.kind,
        target: f.target,
        startMs,
        endMs: f.duration === undefined ? null : startMs + f.duration,
        params: f.params,
      });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
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
