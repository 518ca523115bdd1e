import { isGood, OUTCOMES, type OutcomeCounts } from "../../common/outcome.js";
import type { LiveLatency, SecondCounts } from "../load/index.js";
import { DEFAULT_LEVEL, degradedGoodAt, sloLevel, type SloSpec } from "../sla/index.js";
import { latency, percent } from "./format.js";
import type { BudgetView, SloStanding } from "./types.js";

/** What the live standing of an SLO can be judged from while the run goes on. */
export interface LiveFacts {
  readonly totals: OutcomeCounts;
  readonly recentLatency: LiveLatency;
  /** Every whole second completed so far, oldest first. */
  readonly seconds: readonly SecondCounts[];
}

/** The SLO errors are counted against when none is stated (DESIGN: 99.9% by default). */
export const DEFAULT_SLO = 0.999;

const total = (c: OutcomeCounts): number => OUTCOMES.reduce((s, o) => s + c[o], 0);
const good = (c: OutcomeCounts, degradedGood: boolean): number =>
  OUTCOMES.reduce((s, o) => s + (isGood(o, degradedGood) ? c[o] : 0), 0);

const pending = (id: string, detail: string): SloStanding => ({ id, state: "pending", detail });
const judged = (id: string, met: boolean, detail: string): SloStanding => ({
  id,
  state: met ? "meeting" : "breaching",
  detail,
});

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

/** Share of `windowMs` windows (built from whole seconds) whose good ratio meets the threshold. */
function liveUptime(seconds: readonly SecondCounts[], windowMs: number, threshold: number, dg: boolean) {
  const per = Math.max(1, Math.round(windowMs / 1000));
  const windows = new Map<number, { all: number; good: number }>();
  for (const s of seconds) {
    const w = windows.get(Math.floor(s.second / per)) ?? { all: 0, good: 0 };
    w.all += total(s.counts);
    w.good += good(s.counts, dg);
    windows.set(Math.floor(s.second / per), w);
  }
  const judgedWindows = [...windows.values()].filter((w) => w.all > 0);
  if (judgedWindows.length === 0) return null;
  return judgedWindows.filter((w) => w.good / w.all >= threshold).length / judgedWindows.length;
}

/**
 * Where an SLO stands now, from live counters only. Kinds that need the whole run (detect and
 * recover times, monthly projection) or data the live view does not keep (service time, phases)
 * say so instead of guessing; the final verdict is the SLA engine's, from the record.
 */
export function sloStanding(spec: SloSpec, index: number, f: LiveFacts): SloStanding {
  const id = spec.id ?? `${spec.kind}-${index + 1}`;
  switch (spec.kind) {
    case "availability": {
      const all = total(f.totals);
      if (all === 0) return pending(id, "no answers yet");
      // The live counters do not link a retry to the shed answer it repeats.
      if (spec.attempts === "final")
        return pending(id, "judged at end (retried requests count by their retry)");
      const r = good(f.totals, degradedGoodAt(sloLevel(spec))) / all;
      return judged(id, r >= spec.min, `${percent(r)} >= ${percent(spec.min)}`);
    }
    case "uptime":
      return uptimeStanding(spec, id, f.seconds);
    case "latency":
      return latencyStanding(spec, id, f.recentLatency);
    case "error-budget-burn": {
      const all = total(f.totals);
      const budget = (1 - spec.target) * all;
      if (budget <= 0) return pending(id, "no answers yet");
      const burn = (all - good(f.totals, true)) / budget;
      return judged(id, burn <= spec.max, `burn ${burn.toFixed(2)} <= ${spec.max}`);
    }
    case "time-to-detect":
    case "time-to-recover":
    case "projected-monthly-availability":
    case "retry-after":
    case "alert":
      return pending(id, "judged at end");
    default: {
      const never: never = spec;
      return never;
    }
  }
}

function latencyStanding(
  spec: Extract<SloSpec, { kind: "latency" }>,
  id: string,
  recent: LiveLatency,
): SloStanding {
  if ((spec.from ?? "intended") !== "intended" || (spec.phase ?? "all") !== "all")
    return pending(id, "judged at end");
  const v = recent[`p${spec.percentile}`];
  if (v === null) return pending(id, "no answers yet");
  return judged(id, v <= spec.max, `p${spec.percentile} ${latency(v)} <= ${latency(spec.max)} (recent)`);
}

function uptimeStanding(
  spec: Extract<SloSpec, { kind: "uptime" }>,
  id: string,
  seconds: readonly SecondCounts[],
): SloStanding {
  const r = liveUptime(seconds, spec.window ?? 1000, spec.threshold ?? 0.99, degradedGoodAt(sloLevel(spec)));
  if (r === null) return pending(id, "no whole window yet");
  return judged(id, r >= spec.min, `${percent(r)} of windows up >= ${percent(spec.min)}`);
}
