import { BREAKER_STATE_METRIC, BREAKER_STATE_VALUE } from "../targets/protocol.js";
import { OUTCOME_CODE } from "../../common/outcome.js";
import type { RequestColumns } from "./columns.js";
import {
  HealthIndex as Health,
  downtimeIntervals,
  overlapMs,
  recoveryPoint,
  type HealthIndex,
  type Interval,
  type RecoveryOptions,
} from "./health.js";
import { goodCodes, lowerBound } from "./outcomes.js";

/** A fault as planned and carried out, in ms from the start of the load run. */
export interface FaultWindow {
  readonly id: string;
  readonly kind: string;
  readonly startMs: number;
  /** null for an instant fault (a kill): recovery is then counted from the start. */
  readonly endMs: number | null;
}

/** One scrape of the target's metrics: series key (as exposed) -> value. */
export interface MetricSample {
  readonly tMs: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface FaultAnalysis {
  readonly id: string;
  readonly kind: string;
  /**
   * Null when nothing signalled, or when the first signal came only after the service was back
   * (answering again and at full service): `detectNote` then says which.
   */
  readonly timeToDetectMs: number | null;
  /** How the fault was first noticed: a degraded/shed answer or the breaker metric. */
  readonly detectedBy: "answer" | "breaker" | null;
  /** Why time to detect is null; null when it was measured. */
  readonly detectNote: string | null;
  /** Recovery at the run's headline level (the first availability SLO's). */
  readonly recoveryPointMs: number | null;
  readonly timeToRecoverMs: number | null;
  /** Recovery at the answered level (any good answer, fallbacks included): time to answer again. */
  readonly answerAgainPointMs: number | null;
  readonly timeToAnswerAgainMs: number | null;
  /** Recovery at the full level (only the primary model's answers): time to full service. */
  readonly fullServicePointMs: number | null;
  readonly timeToFullServiceMs: number | null;
  /**
   * Requests intended from fault start until the later of the headline recovery and full
   * service (or run end when either never came): the fallback answers a fault caused count
   * here even when the run's headline level is answered.
   */
  readonly requests: { readonly total: number; readonly failed: number; readonly degraded: number };
  /** Downtime inside [start, recovery point or run end): the measured cost of one occurrence. */
  readonly downtimeMs: number;
}

/**
 * Time to detect: fault start until the service first signals it: the earliest answer
 * classified degraded or shed that arrived at or after the start, or the earliest scrape at or
 * after the start in which a `faultline_breaker_state{...}` series reads open (1). Failures the
 * service does not signal (refused connections, timeouts) do not count as detection.
 */
export function timeToDetect(
  c: RequestColumns,
  samples: readonly MetricSample[],
  startMs: number,
): { ms: number | null; by: "answer" | "breaker" | null } {
  let answer = Number.POSITIVE_INFINITY;
  for (let i = 0; i < c.length; i++) {
    const code = c.outcome[i];
    if (code !== OUTCOME_CODE.degraded && code !== OUTCOME_CODE.shed) continue;
    const end = c.end[i];
    if (end >= startMs && end < answer) answer = end;
  }
  return detectFrom(answer, samples, startMs);
}

/**
 * Time to detect from the end of the earliest degraded/shed answer at or after the start
 * (+Infinity when none) and the scrapes: the part of `timeToDetect` that needs no rows.
 */
export function detectFrom(
  answer: number,
  samples: readonly MetricSample[],
  startMs: number,
): { ms: number | null; by: "answer" | "breaker" | null } {
  let breaker = Number.POSITIVE_INFINITY;
  for (const s of samples) {
    if (s.tMs >= startMs && s.tMs < breaker && breakerOpen(s)) breaker = s.tMs;
  }
  if (answer === Number.POSITIVE_INFINITY && breaker === Number.POSITIVE_INFINITY)
    return { ms: null, by: null };
  return answer <= breaker
    ? { ms: answer - startMs, by: "answer" }
    : { ms: breaker - startMs, by: "breaker" };
}

function breakerOpen(s: MetricSample): boolean {
  for (const [key, value] of Object.entries(s.values)) {
    const isBreaker = key === BREAKER_STATE_METRIC || key.startsWith(`${BREAKER_STATE_METRIC}{`);
    if (isBreaker && value === BREAKER_STATE_VALUE.open) return true;
  }
  return false;
}

export interface FaultAnalysisOptions extends RecoveryOptions {
  readonly degradedCountsAsGood: boolean;
}

export function analyzeFaults(
  h: HealthIndex,
  faults: readonly FaultWindow[],
  samples: readonly MetricSample[],
  o: FaultAnalysisOptions,
): { faults: FaultAnalysis[]; downtime: Interval[] } {
  const c = h.columns;
  const downtime = downtimeIntervals(h, o.durationMs);
  const answered = new Health(c, { ...h.options, degradedCountsAsGood: true });
  const full = new Health(c, { ...h.options, degradedCountsAsGood: false });
  const good = goodCodes(o.degradedCountsAsGood);
  const out = faults.map((f): FaultAnalysis => {
    const from = f.endMs ?? f.startMs;
    const point = recoveryPoint(h, from, o);
    const until = point ?? o.durationMs;
    const answerPoint = recoveryPoint(answered, from, o);
    const fullPoint = recoveryPoint(full, from, o);
    const detect = honestDetect(c, timeToDetect(c, samples, f.startMs), f.startMs, answerPoint, fullPoint);
    const lo = lowerBound(c, f.startMs);
    const countUntil = point === null || fullPoint === null ? o.durationMs : Math.max(point, fullPoint);
    const hi = Math.max(lo, lowerBound(c, countUntil));
    let failed = 0;
    let degraded = 0;
    for (let i = lo; i < hi; i++) {
      const code = c.outcome[i];
      if (code === OUTCOME_CODE.degraded) degraded++;
      else if (!good[code]) failed++;
    }
    return {
      id: f.id,
      kind: f.kind,
      timeToDetectMs: detect.ms,
      detectedBy: detect.by,
      detectNote: detect.note,
      recoveryPointMs: point,
      timeToRecoverMs: point === null ? null : Math.max(0, point - from),
      answerAgainPointMs: answerPoint,
      timeToAnswerAgainMs: answerPoint === null ? null : Math.max(0, answerPoint - from),
      fullServicePointMs: fullPoint,
      timeToFullServiceMs: fullPoint === null ? null : Math.max(0, fullPoint - from),
      requests: { total: hi - lo, failed, degraded },
      downtimeMs: overlapMs(downtime, f.startMs, until),
    };
  });
  return { faults: out, downtime };
}

/**
 * A signal counts as detection only if it came before the service was back: by the time the
 * answers that ended the outage arrived (the end of the row at the answer-again point and at
 * the full-service point, whichever is later). A signal after that is not detection of this
 * fault (api-crash: refused connections, then full answers, then a breaker scrape), so the
 * record says "no signal before recovery" instead of a detect time later than the recovery.
 */
export function honestDetect(
  c: RequestColumns,
  d: { ms: number | null; by: "answer" | "breaker" | null },
  startMs: number,
  answerPoint: number | null,
  fullPoint: number | null,
): { ms: number | null; by: "answer" | "breaker" | null; note: string | null } {
  if (d.ms === null)
    return { ...d, note: "the service gave no signal (no degraded or shed answer, no open breaker)" };
  if (answerPoint === null || fullPoint === null) return { ...d, note: null };
  return honestDetectBy(d, startMs, answerPoint, fullPoint, (point) => {
    const i = lowerBound(c, point);
    return i < c.length ? c.end[i] : point;
  });
}

/**
 * `honestDetect` with the row lookup given: `answeredAt(point)` is the end of the first row
 * intended at or after `point` (`point` itself when there is none).
 */
export function honestDetectBy(
  d: { ms: number | null; by: "answer" | "breaker" | null },
  startMs: number,
  answerPoint: number | null,
  fullPoint: number | null,
  answeredAt: (point: number) => number,
): { ms: number | null; by: "answer" | "breaker" | null; note: string | null } {
  if (d.ms === null)
    return { ...d, note: "the service gave no signal (no degraded or shed answer, no open breaker)" };
  if (answerPoint === null || fullPoint === null) return { ...d, note: null };
  const back = Math.max(answeredAt(answerPoint), answeredAt(fullPoint));
  if (startMs + d.ms <= back) return { ...d, note: null };
  return {
    ms: null,
    by: null,
    note: `no signal before the service was back (answering at full service ${Math.round(back - startMs)} ms after the fault); its first signal (${d.by ?? "none"}) came at ${Math.round(d.ms)} ms`,
  };
}
