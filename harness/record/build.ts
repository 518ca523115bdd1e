import type { z } from "zod";
import { InvalidInputError, type InputIssue } from "../../common/errors.js";
import type { LoadResult } from "../load/types.js";
import type { SlaReport } from "../sla/analyze.js";
import type { MetricSample } from "../sla/faults.js";
import { runId } from "./run-id.js";
import { RUN_RECORD_VERSION, runRecordSchema, type RunEvent, type RunRecord } from "./schema.js";

/** The record's `load` section from a finished load run and the options it ran with. */
export function loadSection(
  result: Pick<LoadResult, "targetRate" | "achievedRate" | "maxInFlightHits" | "sendLagP99Ms">,
  options: { readonly deadlineMs: number; readonly maxInFlight: number },
): RunRecord["load"] {
  return {
    targetRate: result.targetRate,
    achievedRate: result.achievedRate,
    deadlineMs: options.deadlineMs,
    maxInFlight: options.maxInFlight,
    maxInFlightHits: result.maxInFlightHits,
    sendLagP99Ms: result.sendLagP99Ms,
  };
}

/** A fault as the timeline carried it out; timings come from the SLA report by id. */
export interface FaultRecordInput {
  readonly id: string;
  readonly kind: string;
  readonly target: string;
  readonly description: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly startMs: number;
  readonly endMs: number | null;
  readonly injectedAtMs: number | null;
  readonly revertedAtMs: number | null;
  readonly error?: string;
}

export interface RunRecordInputs {
  /** Default: runId(startedAtMs, scenario.name). */
  readonly id?: string;
  readonly scenario: RunRecord["scenario"];
  readonly status: RunRecord["status"];
  readonly statusReason?: string;
  /** Epoch ms of the load's time origin; every relative time in the record counts from it. */
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly environment: RunRecord["environment"];
  readonly target: RunRecord["target"];
  readonly load: RunRecord["load"];
  readonly sla: SlaReport;
  readonly faults: readonly FaultRecordInput[];
  readonly steadyState?: RunRecord["steadyState"];
  readonly targetMetrics?: readonly MetricSample[];
  readonly events?: readonly RunEvent[];
  readonly requestsFile?: string | null;
  /** Labels of the load mix's templates, by index. */
  readonly requestTemplates?: readonly string[];
}

/**
 * Assembles the run record from what the run produced and validates it against the schema,
 * so a record that reaches disk is always one the reports can read. The verdict follows the
 * status: a completed run passes when every SLO and every steady-state check passed.
 */
export function buildRunRecord(inputs: RunRecordInputs): RunRecord {
  const sla = inputs.sla;
  const steadyState = inputs.steadyState ?? { before: [], after: [] };
  const candidate: RunRecord = {
    schemaVersion: RUN_RECORD_VERSION,
    id: inputs.id ?? runId(inputs.startedAtMs, inputs.scenario.name),
    scenario: inputs.scenario,
    status: inputs.status,
    ...(inputs.statusReason === undefined ? {} : { statusReason: inputs.statusReason }),
    verdict: verdictOf(inputs.status, sla, steadyState),
    startedAtMs: inputs.startedAtMs,
    endedAtMs: inputs.endedAtMs,
    durationMs: Math.max(0, inputs.endedAtMs - inputs.startedAtMs),
    environment: inputs.environment,
    target: inputs.target,
    load: inputs.load,
    totals: sla.totals,
    availability: availabilityOf(sla.availability),
    uptime: sla.uptime,
    levels: { answered: { ...sla.levels.answered }, full: { ...sla.levels.full } },
    latency: sla.latency,
    windows: sla.windows.map((w) => ({ ...w })),
    faults: inputs.faults.map((f) => faultTiming(f, sla)),
    errorBudget: sla.errorBudget,
    projection:
      sla.projection === null
        ? null
        : { ...sla.projection, inputs: sla.projection.inputs.map((i) => ({ ...i })) },
    slos: sla.slos.map((s) => ({ ...s })),
    steadyState,
    targetMetrics: (inputs.targetMetrics ?? []).map((m) => ({ tMs: m.tMs, values: { ...m.values } })),
    events: [...(inputs.events ?? [])],
    requestsFile: inputs.requestsFile ?? null,
    downtime: sla.downtime.map((d) => ({ ...d })),
    ...(inputs.requestTemplates ? { requestTemplates: [...inputs.requestTemplates] } : {}),
    ...(sla.retries
      ? {
          retries: {
            ...sla.retries,
            outcomes: { ...sla.retries.outcomes },
            retryAfterMs: { ...sla.retries.retryAfterMs },
          },
        }
      : {}),
  };
  return validateRunRecord(candidate);
}

/** `attempts` is written only when it is "final", so records of runs without retries are unchanged. */
function availabilityOf(a: SlaReport["availability"]): RunRecord["availability"] {
  const { value, degradedCountsAsGood } = a;
  return a.attempts === "final"
    ? { value, degradedCountsAsGood, attempts: "final" }
    : { value, degradedCountsAsGood };
}

function verdictOf(
  status: RunRecord["status"],
  sla: SlaReport,
  steady: RunRecord["steadyState"],
): RunRecord["verdict"] {
  switch (status) {
    case "aborted":
      return "aborted";
    case "void":
      return "void";
    case "completed": {
      const checks = [...steady.before, ...steady.after];
      return sla.slos.every((s) => s.passed) && checks.every((c) => c.passed) ? "pass" : "fail";
    }
    default: {
      const never: never = status;
      return never;
    }
  }
}

/** Both levels' recovery times and, when detect is null, why (optional record fields). */
function levelTimes(a: SlaReport["faults"][number] | undefined) {
  if (a === undefined) return { timeToAnswerAgainMs: null, timeToFullServiceMs: null };
  return {
    ...(a.detectNote ? { detectNote: a.detectNote } : {}),
    timeToAnswerAgainMs: a.timeToAnswerAgainMs,
    timeToFullServiceMs: a.timeToFullServiceMs,
  };
}

function faultTiming(f: FaultRecordInput, sla: SlaReport): RunRecord["faults"][number] {
  const a = sla.faults.find((x) => x.id === f.id);
  return {
    id: f.id,
    kind: f.kind,
    target: f.target,
    description: f.description,
    params: { ...f.params },
    startMs: f.startMs,
    endMs: f.endMs,
    injectedAtMs: f.injectedAtMs,
    revertedAtMs: f.revertedAtMs,
    timeToDetectMs: a?.timeToDetectMs ?? null,
    timeToRecoverMs: a?.timeToRecoverMs ?? null,
    ...levelTimes(a),
    recovered: a?.recoveryPointMs !== null && a?.recoveryPointMs !== undefined,
    requests: a ? { ...a.requests } : { total: 0, failed: 0, degraded: 0 },
    ...(f.error === undefined ? {} : { error: f.error }),
  };
}

/** Parses with the schema; every problem is reported at once with its path. */
export function validateRunRecord(value: unknown, file?: string): RunRecord {
  const parsed = runRecordSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(
    zodIssues(parsed.error, file),
    `the run record does not match schema version ${RUN_RECORD_VERSION}; it may come from another faultline version`,
  );
}

function zodIssues(error: z.ZodError, file?: string): InputIssue[] {
  return error.issues.map((i) => ({
    ...(file === undefined ? {} : { file }),
    path: i.path.reduce<string>(
      (acc, seg) =>
        typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg),
      "",
    ),
    message: i.message,
  }));
}
