import { collectEnvironment } from "../record/environment.js";
import { buildRunRecord, type FaultRecordInput } from "../record/build.js";
import type { RunEvent, RunRecord } from "../record/schema.js";
import { occurrenceError, type FaultOccurrence } from "../faults/scheduler.js";
import type { LoadResult } from "../load/index.js";
import type { SlaReport } from "../sla/index.js";
import type { LoadedScenario } from "../scenario/load.js";
import type { K6LoadReport } from "../k6/load-driver.js";
import type { CheckResult } from "./steady-state.js";
import type { MetricSnapshot } from "./scraper.js";

export interface RecordParts {
  readonly id: string;
  readonly loaded: LoadedScenario;
  readonly version: string;
  readonly status: RunRecord["status"];
  readonly statusReason?: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly target: RunRecord["target"];
  readonly load: LoadResult | null;
  readonly sla: SlaReport;
  readonly occurrences: readonly FaultOccurrence[];
  readonly steadyState: { before: CheckResult[]; after: CheckResult[] };
  readonly metrics: readonly MetricSnapshot[];
  readonly events: readonly RunEvent[];
  /** load.driver k6: what k6 reported; absent or null for the built-in generator. */
  readonly k6?: K6LoadReport | null;
}

const rel = (t: number | null, origin: number): number | null => (t === null ? null : t - origin);

function faultInputs(occurrences: readonly FaultOccurrence[], origin: number): FaultRecordInput[] {
  return occurrences.map((o) => {
    const error = occurrenceError(o);
    return {
      id: o.faultId,
      kind: o.kind,
      target: o.target,
      description: o.description,
      params: o.params,
      startMs: o.plannedStartMs,
      endMs: o.plannedEndMs,
      injectedAtMs: rel(o.injectedAtMs, origin),
      revertedAtMs: rel(o.revertedAtMs, origin),
      // An empty error text writes no error field.
      ...(error ? { error } : {}),
    };
  });
}

/** Everything the run produced, assembled into the validated run record (harness/record/build.ts). */
export function assembleRecord(p: RecordParts): RunRecord {
  const s = p.loaded.scenario;
  return buildRunRecord({
    id: p.id,
    scenario: {
      name: s.name,
      file: p.loaded.file,
      seed: s.seed,
      source: s,
    },
    status: p.status,
    ...(p.statusReason === undefined ? {} : { statusReason: p.statusReason }),
    startedAtMs: p.startedAtMs,
    endedAtMs: p.endedAtMs,
    environment: collectEnvironment(p.version),
    target: p.target,
    load: {
      targetRate: p.load?.targetRate ?? 0,
      achievedRate: p.load?.achievedRate ?? 0,
      deadlineMs: s.load.deadline,
      maxInFlight: s.load.maxInFlight,
      maxInFlightHits: p.load?.maxInFlightHits ?? 0,
      sendLagP99Ms: p.load?.sendLagP99Ms ?? null,
      ...(p.k6 ? { driver: "k6" as const, k6: p.k6 } : {}),
    },
    sla: p.sla,
    faults: faultInputs(p.occurrences, p.startedAtMs),
    steadyState: p.steadyState,
    targetMetrics: p.metrics,
    events: p.events,
    ...(p.load ? { requestTemplates: p.load.templates } : {}),
  });
}
