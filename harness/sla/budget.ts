import type { OutcomeCounts } from "../../common/outcome.js";
import { goodOf, totalOf } from "./outcomes.js";

export interface ErrorBudget {
  readonly slo: number;
  /** (1 - slo) x requests: how many bad requests the SLO allows for this run. */
  readonly budgetRequests: number;
  readonly badRequests: number;
  /** bad / budget: 1 means exactly the budget was spent; null when the budget is 0. */
  readonly burn: number | null;
}

export function errorBudget(counts: OutcomeCounts, slo: number, degradedCountsAsGood: boolean): ErrorBudget {
  if (!(slo >= 0 && slo <= 1)) throw new RangeError(`slo must be a ratio in [0, 1], got ${slo}`);
  const all = totalOf(counts);
  const bad = all - goodOf(counts, degradedCountsAsGood);
  const budget = (1 - slo) * all;
  return { slo, budgetRequests: budget, badRequests: bad, burn: budget > 0 ? bad / budget : null };
}
