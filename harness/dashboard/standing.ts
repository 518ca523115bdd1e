import type { OutcomeCounts } from "../../common/outcome.js";
import { sloKind } from "../sla/kinds/index.js";
import { DEFAULT_LEVEL, degradedGoodAt, sloLevel, type SloSpec } from "../sla/index.js";
import { good, total, type LiveFacts } from "./live-standing.js";
import type { BudgetView, SloStanding } from "./types.js";

export type { LiveFacts } from "./live-standing.js";

/** The SLO errors are counted against when none is stated (DESIGN: 99.9% by default). */
export const DEFAULT_SLO = 0.999;

/** Availability so far and the error budget left, against the first availability SLO. */
export function budgetOf(specs: readonly SloSpec[], totals: OutcomeCounts): BudgetView {
  const first = specs.find((s) => s.kind === "availability");
  const slo = first?.min ?? DEFAULT_SLO;
  const requests = total(totals);
  // The budget's level is the first availability SLO's (default full); both levels are shown.
  const level = first?.kind === "availability" ? sloLevel(first) : DEFAULT_LEVEL;
  const ok = good(totals, degradedGoodAt(level));
  return {
    requests,
    good: ok,
    answered: good(totals, true),
    full: good(totals, false),
    level,
    slo,
    budget: (1 - slo) * requests,
    bad: requests - ok,
  };
}

/**
 * Where an SLO stands now, from live counters only. Kinds that need the whole run (detect and
 * recover times, monthly projection) or data the live view does not keep (service time, phases)
 * say so instead of guessing; the final verdict is the SLA engine's, from the record. Each SLO
 * kind says how (`standing` in harness/sla/kinds/<kind>.ts).
 */
export function sloStanding(spec: SloSpec, index: number, f: LiveFacts): SloStanding {
  const id = spec.id ?? `${spec.kind}-${index + 1}`;
  return sloKind(spec).standing(spec, id, f);
}
