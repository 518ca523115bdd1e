import { isGood, OUTCOMES, type OutcomeCounts } from "../../common/outcome.js";
import type { SecondCounts } from "../load/index.js";
import { degradedGoodAt, type JudgedLevel } from "../sla/levels.js";

/**
 * The live view of both service levels (DESIGN.md "Two levels of truth"), from whole seconds
 * only: the dashboard never shows one level without the other. Times are at one-second
 * resolution and shown as upper bounds; the record's per-request figures are the verdict.
 */

const total = (c: OutcomeCounts): number => OUTCOMES.reduce((s, o) => s + c[o], 0);
const goodAt = (c: OutcomeCounts, level: JudgedLevel): number =>
  OUTCOMES.reduce((s, o) => s + (isGood(o, degradedGoodAt(level)) ? c[o] : 0), 0);

export interface UptimeView {
  readonly answered: number | null;
  readonly full: number | null;
  readonly windowMs: number;
  readonly threshold: number;
}

/** Share of `windowMs` windows (built from whole seconds) whose good ratio at `level` meets the threshold. */
export function liveUptime(
  seconds: readonly SecondCounts[],
  windowMs: number,
  threshold: number,
  level: JudgedLevel,
): number | null {
  const per = Math.max(1, Math.round(windowMs / 1000));
  const windows = new Map<number, { all: number; good: number }>();
  for (const s of seconds) {
    const k = Math.floor(s.second / per);
    const w = windows.get(k) ?? { all: 0, good: 0 };
    w.all += total(s.counts);
    w.good += goodAt(s.counts, level);
    windows.set(k, w);
  }
  const judged = [...windows.values()].filter((w) => w.all > 0);
  if (judged.length === 0) return null;
  return judged.filter((w) => w.good / w.all >= threshold).length / judged.length;
}

export function uptimeView(
  seconds: readonly SecondCounts[],
  windowMs: number,
  threshold: number,
): UptimeView {
  return {
    answered: liveUptime(seconds, windowMs, threshold, "answered"),
    full: liveUptime(seconds, windowMs, threshold, "full"),
    windowMs,
    threshold,
  };
}

/** A finished fault's three times, each the end of the first whole second that showed it (null: not seen). */
export interface LiveFaultTimes {
  readonly id: string;
  /** First second with a degraded or shed answer (the service's own signal) after the start. */
  readonly signalMs: number | null;
  /** First second after the fault's end (its start, if instant) with every answer good. */
  readonly answeredMs: number | null;
  /** First such second with every answer from the primary model. */
  readonly fullMs: number | null;
}

export function liveFaultTimes(
  seconds: readonly SecondCounts[],
  fault: { readonly id: string; readonly startMs: number; readonly endMs: number | null },
): LiveFaultTimes {
  const from = fault.endMs ?? fault.startMs;
  const firstAfter = (t0: number, pred: (c: OutcomeCounts) => boolean): number | null => {
    const s = seconds.find((x) => x.second >= Math.floor(t0 / 1000) && total(x.counts) > 0 && pred(x.counts));
    return s === undefined ? null : Math.max(0, (s.second + 1) * 1000 - t0);
  };
  return {
    id: fault.id,
    signalMs: firstAfter(fault.startMs, (c) => c.degraded + c.shed > 0),
    answeredMs: firstAfter(from, (c) => goodAt(c, "answered") === total(c)),
    fullMs: firstAfter(from, (c) => goodAt(c, "full") === total(c)),
  };
}
