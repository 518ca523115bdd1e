import { isGood, OUTCOMES, type OutcomeCounts } from "../../common/outcome.js";
import type { LiveLatency, SecondCounts } from "../load/index.js";
import type { SloStanding } from "./types.js";

/**
 * What the live standing of an SLO can be judged from while the run goes on, and the pieces
 * every SLO kind's `standing` (harness/sla/kinds/) builds its answer from.
 */
export interface LiveFacts {
  readonly totals: OutcomeCounts;
  readonly recentLatency: LiveLatency;
  /** Every whole second completed so far, oldest first. */
  readonly seconds: readonly SecondCounts[];
}

export const total = (c: OutcomeCounts): number => OUTCOMES.reduce((s, o) => s + c[o], 0);
export const good = (c: OutcomeCounts, degradedGood: boolean): number =>
  OUTCOMES.reduce((s, o) => s + (isGood(o, degradedGood) ? c[o] : 0), 0);

export const pending = (id: string, detail: string): SloStanding => ({ id, state: "pending", detail });
export const judged = (id: string, met: boolean, detail: string): SloStanding => ({
  id,
  state: met ? "meeting" : "breaching",
  detail,
});
