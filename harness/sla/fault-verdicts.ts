import type { FaultAnalysis } from "./faults.js";
import type { JudgedLevel } from "./levels.js";
import { judge, type SloVerdict } from "./verdict.js";

/** Which per-fault time an SLO bounds: detection, answering again, or full service. */
export type FaultTime = "detect" | JudgedLevel;

const WHAT: Record<FaultTime, string> = {
  detect: "time to detect",
  answered: "time to answer again",
  full: "time to full service",
};
const METRIC: Record<FaultTime, string> = {
  detect: "timeToDetectMs",
  answered: "timeToAnswerAgainMs",
  full: "timeToFullServiceMs",
};

const measuredOf = (time: FaultTime, f: FaultAnalysis): number | null =>
  time === "detect" ? f.timeToDetectMs : time === "answered" ? f.timeToAnswerAgainMs : f.timeToFullServiceMs;

/**
 * A bound on one per-fault time (time-to-detect, time-to-recover): one verdict per fault in
 * scope (ids `<id>/<fault>` when there are several), or one unmeasured verdict when none is.
 */
export function faultTimeVerdicts(
  spec: { readonly max: number; readonly fault?: string },
  time: FaultTime,
  id: string,
  faults: readonly FaultAnalysis[],
): SloVerdict[] {
  const chosen = spec.fault === undefined ? faults : faults.filter((f) => f.id === spec.fault);
  const what = WHAT[time];
  const metric = METRIC[time];
  if (chosen.length === 0) {
    const d = `${what} <= ${spec.max} ms: no such fault ${spec.fault ?? "in this run"}`;
    return [judge({ id, description: d, metric, comparator: "<=", bound: spec.max, unit: "ms" }, null)];
  }
  return chosen.map((f) =>
    judge(
      {
        id: chosen.length > 1 ? `${id}/${f.id}` : id,
        description: `${what} ${f.id} <= ${spec.max} ms${time === "detect" && f.detectNote ? ` (${f.detectNote})` : ""}`,
        metric,
        comparator: "<=",
        bound: spec.max,
        unit: "ms",
        faultId: f.id,
      },
      measuredOf(time, f),
    ),
  );
}
