import type { RunRecord } from "./schema.js";

/**
 * Both service levels of a record, for every view that shows a number (DESIGN.md "Two levels
 * of truth"). Records written before levels existed carry only the headline: it stands for
 * the level it was counted at, and the other level reads as not recorded (null), never as a
 * copy of the headline.
 */
export interface RecordLevels {
  readonly answered: { readonly availability: number | null; readonly uptime: number | null };
  readonly full: { readonly availability: number | null; readonly uptime: number | null };
}

export function recordLevels(r: RunRecord): RecordLevels {
  if (r.levels) return r.levels;
  const headline = { availability: r.availability.value, uptime: r.uptime.value };
  const none = { availability: null, uptime: null };
  return r.availability.degradedCountsAsGood
    ? { answered: headline, full: none }
    : { answered: none, full: headline };
}

type FaultRow = RunRecord["faults"][number];

/**
 * A per-fault time: ms, null when the fault never got there before the run ended, undefined
 * when the record does not say (written before levels existed, at the other level).
 */
export type LevelTime = number | null | undefined;

/** A fault's time to answer again; older records: the time to recover when it was counted with fallbacks. */
export const answerAgainOf = (r: RunRecord, f: FaultRow): LevelTime =>
  f.timeToAnswerAgainMs !== undefined
    ? f.timeToAnswerAgainMs
    : r.availability.degradedCountsAsGood
      ? f.timeToRecoverMs
      : undefined;

/** A fault's time to full service; older records: the time to recover when fallbacks counted as down. */
export const fullServiceOf = (r: RunRecord, f: FaultRow): LevelTime =>
  f.timeToFullServiceMs !== undefined
    ? f.timeToFullServiceMs
    : r.availability.degradedCountsAsGood
      ? undefined
      : f.timeToRecoverMs;

/**
 * The worst of a per-fault time over the run's faults: "none" without faults, "never" when a
 * fault did not get there before the run ended, "not recorded" when the record does not say
 * for some fault (an older record: never shown as "never", which would be a claim), else the
 * max ms.
 */
export function worstOf(
  r: RunRecord,
  pick: (r: RunRecord, f: FaultRow) => LevelTime,
): number | "none" | "never" | "not recorded" {
  if (r.faults.length === 0) return "none";
  const v = r.faults.map((f) => pick(r, f));
  if (v.some((x) => x === null)) return "never";
  if (v.some((x) => x === undefined)) return "not recorded";
  return Math.max(...(v as number[]));
}
