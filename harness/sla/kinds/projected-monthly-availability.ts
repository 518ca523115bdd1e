import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { downtimeByKind, projectMonthly } from "../projection.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import { needsFaultWindows, pct, positiveInt, ratio, sloBase } from "./fields.js";

/**
 * Mean availability over simulated months, each fault kind occurring at its stated monthly
 * frequency and costing its measured downtime, at least `min`.
 */
export const projectedMonthlyAvailabilitySlo = defineSloKind({
  kind: "projected-monthly-availability",
  schema: z.strictObject({
    ...sloBase,
    kind: z.literal("projected-monthly-availability"),
    min: ratio,
    /** Assumed occurrences per month of each fault kind in this scenario. */
    frequency: z.record(z.string(), z.number().nonnegative()),
    months: positiveInt.max(1_000_000).default(10_000),
  }),

  evaluate(spec, id, ctx) {
    // Kinds given a frequency but not measured in this run contribute no downtime (stated in the inputs).
    const measured = downtimeByKind(ctx.faults);
    const inputs = Object.entries(spec.frequency)
      .filter(([kind]) => measured.has(kind))
      .map(([kind, perMonth]) => ({ kind, perMonth, downtimeMs: measured.get(kind) as number }));
    const p = projectMonthly(inputs, spec.min, spec.months ?? 10_000, ctx.seed);
    const verdict = judge(
      {
        id,
        description: `projected monthly availability >= ${pct(spec.min)} (mean over ${p.months} months)`,
        metric: "projection.meanAvailability",
        comparator: ">=",
        bound: spec.min,
        unit: "ratio",
      },
      p.meanAvailability,
    );
    return { verdicts: [verdict], projection: p };
  },

  check: (spec, i, scenario) =>
    Object.keys(spec.frequency)
      .filter((kind) => !scenario.faultKinds.has(kind))
      .map((kind) => ({
        path: ["slos", i, "frequency", kind],
        message: `no fault of kind "${kind}" in this scenario`,
        hint: `measured kinds: ${[...scenario.faultKinds].join(", ") || "(none)"}`,
      })),

  k6Thresholds: (spec, name) => [needsFaultWindows(name, spec.kind)],

  standing: (_spec, id) => pending(id, "judged at end"),
});
