import type { RunRecord } from "../harness/record/schema.js";
import { answerAgainOf, fullServiceOf, recordLevels, type LevelTime } from "../harness/record/levels.js";
import { formatMargin, formatValue, type Unit } from "./format.js";

/**
 * What changed between a baseline run and a new one: availability and uptime (as judged, and
 * at both service levels, answered and full service, side by side), latency percentiles, each
 * fault's time to detect, recover, answer again and reach full service (faults matched by id;
 * the last two judged like recovery) and each SLO's verdict (matched by id). A change is a regression only past its threshold, so that run-to-
 * run noise does not flag; the thresholds and why they are what they are:
 *
 * - availability: a drop of more than 0.05 percentage points. A 99.9% SLO allows 0.1 pp of
 *   bad requests, so half the monthly budget is the smallest change worth a look.
 * - uptime: a drop of more than 0.5 pp (window-based, so coarser than availability).
 * - latency P50/P95/P99: more than 10% slower AND more than 5 ms slower; the absolute floor
 *   keeps a 2 ms -> 3 ms wobble from flagging.
 * - time to recover: more than 20% slower AND more than 1000 ms slower (recovery is measured in
 *   whole windows, 1 s by default, so one window's difference is at the resolution); a fault that
 *   recovered in the baseline but not in the new run is always a regression.
 * - time to detect: more than 20% slower AND more than 250 ms slower; detected before but
 *   not now is always a regression.
 * - SLOs: met in the baseline and missed now is a regression; the run verdict likewise.
 * - A fault or SLO only one run has is listed as present/absent and never judged.
 *
 * The same thresholds, mirrored, mark improvements. Pure: no I/O.
 */

export type DeltaStatus = "regression" | "improvement" | "unchanged" | "not-comparable";

export interface Threshold {
  readonly better: "lower" | "higher";
  /** Relative change (0.1 = 10%) that must be exceeded; 0 to use only the absolute floor. */
  readonly relative: number;
  /** Absolute change (in the metric's unit) that must be exceeded. */
  readonly absolute: number;
  /** Whether a missing value means "never happened" (worst) rather than "no data". */
  readonly nullIsWorst: boolean;
}

export const COMPARE_THRESHOLDS = {
  availability: { better: "higher", relative: 0, absolute: 0.0005, nullIsWorst: false },
  uptime: { better: "higher", relative: 0, absolute: 0.005, nullIsWorst: false },
  latency: { better: "lower", relative: 0.1, absolute: 5, nullIsWorst: false },
  timeToRecover: { better: "lower", relative: 0.2, absolute: 1000, nullIsWorst: true },
  timeToDetect: { better: "lower", relative: 0.2, absolute: 250, nullIsWorst: true },
} as const satisfies Record<string, Threshold>;

export interface Delta {
  /** Stable id, e.g. `latency.p99`, `fault.kill-worker.timeToRecover`, `slo.availability`. */
  readonly id: string;
  readonly label: string;
  readonly unit: Unit | "verdict";
  readonly base: number | string | null;
  readonly next: number | string | null;
  /** next - base, when both are numbers. */
  readonly change: number | null;
  readonly status: DeltaStatus;
}

export interface RunRef {
  readonly id: string;
  readonly scenario: string;
  readonly verdict: RunRecord["verdict"];
}

export interface Comparison {
  readonly base: RunRef;
  readonly next: RunRef;
  readonly deltas: readonly Delta[];
  readonly regressions: number;
  readonly improvements: number;
}

/** Float slack: 0.9995 - 0.999 is 0.000500000000000056, which must count as exactly 0.05 pp. */
const EPSILON = 1e-9;

function beyond(base: number, next: number, t: Threshold): DeltaStatus {
  const worse = t.better === "lower" ? next - base : base - next;
  const size = Math.abs(worse);
  const relativeOk = t.relative === 0 || size > Math.abs(base) * t.relative + EPSILON;
  if (size <= t.absolute + EPSILON || !relativeOk) return "unchanged";
  return worse > 0 ? "regression" : "improvement";
}

/** Judges one numeric metric against its threshold. Exported for the table tests. */
export function judge(base: number | null, next: number | null, t: Threshold): DeltaStatus {
  if (base !== null && next !== null) return beyond(base, next, t);
  if (!t.nullIsWorst || (base === null && next === null)) return "not-comparable";
  return next === null ? "regression" : "improvement";
}

function numeric(
  id: string,
  label: string,
  unit: Unit,
  base: number | null,
  next: number | null,
  t: Threshold,
): Delta {
  const change = base !== null && next !== null ? next - base : null;
  return { id, label, unit, base, next, change, status: judge(base, next, t) };
}

const attemptsOf = (r: RunRecord): string =>
  r.availability.attempts === "final" ? "each request by its final attempt" : "every attempt";

/** Availability, judged only when both runs counted requests the same way. */
function availabilityDelta(base: RunRecord, next: RunRecord): Delta {
  const d = numeric(
    "availability",
    "Availability",
    "ratio",
    base.availability.value,
    next.availability.value,
    COMPARE_THRESHOLDS.availability,
  );
  const [b, n] = [attemptsOf(base), attemptsOf(next)];
  if (b === n) return d;
  return { ...d, label: `Availability (baseline counts ${b}, new run ${n})`, status: "not-comparable" };
}

/** Availability and uptime at both levels; a level an older record lacks is not comparable. */
function levelDeltas(base: RunRecord, next: RunRecord): Delta[] {
  const T = COMPARE_THRESHOLDS;
  const [b, n] = [recordLevels(base), recordLevels(next)];
  const sameBasis = attemptsOf(base) === attemptsOf(next);
  const out: Delta[] = [];
  for (const [level, name] of [
    ["answered", "answered"],
    ["full", "full service"],
  ] as const) {
    const a = numeric(
      `availability.${level}`,
      `Availability (${name})`,
      "ratio",
      b[level].availability,
      n[level].availability,
      T.availability,
    );
    out.push(sameBasis ? a : { ...a, status: "not-comparable" });
  }
  for (const [level, name] of [
    ["answered", "answered"],
    ["full", "full service"],
  ] as const)
    out.push(
      numeric(`uptime.${level}`, `Uptime (${name})`, "ratio", b[level].uptime, n[level].uptime, T.uptime),
    );
  return out;
}

function headline(base: RunRecord, next: RunRecord): Delta[] {
  const T = COMPARE_THRESHOLDS;
  const out = [
    availabilityDelta(base, next),
    numeric("uptime", "Uptime", "ratio", base.uptime.value, next.uptime.value, T.uptime),
    ...levelDeltas(base, next),
  ];
  for (const k of ["p50", "p95", "p99"] as const) {
    const b = base.latency.intended[k];
    const n = next.latency.intended[k];
    out.push(numeric(`latency.${k}`, `Latency ${k.toUpperCase()}`, "ms", b, n, T.latency));
  }
  return out;
}

/** Rows for items that only one of the runs has: shown, never judged. */
function unmatched<T extends { id: string }>(
  prefix: string,
  base: readonly T[],
  next: readonly T[],
  label: (x: T) => string,
): Delta[] {
  const only = (xs: readonly T[], ys: readonly T[], inBase: boolean): Delta[] =>
    xs
      .filter((x) => !ys.some((y) => y.id === x.id))
      .map((x) => ({
        id: `${prefix}.${x.id}`,
        label: label(x),
        unit: "verdict" as const,
        base: inBase ? "present" : "absent",
        next: inBase ? "absent" : "present",
        change: null,
        status: "not-comparable" as const,
      }));
  return [...only(base, next, true), ...only(next, base, false)];
}

function faultDeltas(base: RunRecord, next: RunRecord): Delta[] {
  const out: Delta[] = [];
  const T = COMPARE_THRESHOLDS;
  for (const b of base.faults) {
    const n = next.faults.find((f) => f.id === b.id);
    if (!n) continue;
    const ttr = (f: typeof b): number | null => (f.recovered ? f.timeToRecoverMs : null);
    const label = `${b.id} (${b.kind})`;
    out.push(
      numeric(
        `fault.${b.id}.timeToDetect`,
        `${label}: time to detect`,
        "ms",
        b.timeToDetectMs,
        n.timeToDetectMs,
        T.timeToDetect,
      ),
    );
    out.push(
      numeric(
        `fault.${b.id}.timeToRecover`,
        `${label}: time to recover`,
        "ms",
        ttr(b),
        ttr(n),
        T.timeToRecover,
      ),
    );
    out.push(
      levelTimeDelta(`fault.${b.id}.timeToAnswerAgain`, `${label}: time to answer again`, [
        answerAgainOf(base, b),
        answerAgainOf(next, n),
      ]),
      levelTimeDelta(`fault.${b.id}.timeToFullService`, `${label}: time to full service`, [
        fullServiceOf(base, b),
        fullServiceOf(next, n),
      ]),
    );
  }
  return [...out, ...unmatched("fault", base.faults, next.faults, (f) => `${f.id} (${f.kind})`)];
}

/** A per-fault time at one level, judged like recovery; not comparable when a record does not say. */
function levelTimeDelta(id: string, label: string, [b, n]: [LevelTime, LevelTime]): Delta {
  const d = numeric(id, label, "ms", b ?? null, n ?? null, COMPARE_THRESHOLDS.timeToRecover);
  return b === undefined || n === undefined ? { ...d, status: "not-comparable" } : d;
}

function passFail(id: string, label: string, base: boolean, next: boolean, texts: [string, string]): Delta {
  const status: DeltaStatus = base === next ? "unchanged" : base ? "regression" : "improvement";
  return {
    id,
    label,
    unit: "verdict",
    base: texts[base ? 0 : 1],
    next: texts[next ? 0 : 1],
    change: null,
    status,
  };
}

function sloDeltas(base: RunRecord, next: RunRecord): Delta[] {
  const out: Delta[] = [];
  for (const b of base.slos) {
    const n = next.slos.find((s) => s.id === b.id);
    if (n) out.push(passFail(`slo.${b.id}`, `SLO ${b.description}`, b.passed, n.passed, ["met", "missed"]));
  }
  return [...out, ...unmatched("slo", base.slos, next.slos, (s) => `SLO ${s.description}`)];
}

export function compareRuns(base: RunRecord, next: RunRecord): Comparison {
  const verdict: Delta = {
    ...passFail("verdict", "Verdict", base.verdict === "pass", next.verdict === "pass", ["pass", "not pass"]),
    base: base.verdict,
    next: next.verdict,
  };
  const deltas = [verdict, ...headline(base, next), ...faultDeltas(base, next), ...sloDeltas(base, next)];
  const ref = (r: RunRecord): RunRef => ({ id: r.id, scenario: r.scenario.name, verdict: r.verdict });
  return {
    base: ref(base),
    next: ref(next),
    deltas,
    regressions: deltas.filter((d) => d.status === "regression").length,
    improvements: deltas.filter((d) => d.status === "improvement").length,
  };
}

/** A delta's values as text, shared by the Markdown and HTML renderings. */
export function deltaText(d: Delta): { base: string; next: string; change: string } {
  const show = (v: number | string | null): string => {
    if (typeof v === "string") return v;
    if (d.unit === "verdict") return v === null ? "n/a" : String(v);
    return v === null && d.id.startsWith("fault.") ? "never" : formatValue(v, d.unit);
  };
  const change = d.change === null || d.unit === "verdict" ? "" : formatMargin(d.change, d.unit);
  return { base: show(d.base), next: show(d.next), change };
}
