import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { retrySuccess } from "../retries.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import { pct, positiveInt, ratio, sloBase } from "./fields.js";

/** Retries sent at a shed answer's Retry-After that got a good answer, at least `min`. */
export const retryAfterSlo = defineSloKind({
  kind: "retry-after",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("retry-after"),
      /** Share of retries sent at a shed answer's Retry-After that got a good answer. */
      min: ratio,
      degradedCountsAsGood: z.boolean().default(true),
      /** Fewer retries than this and the SLO is missed: the run did not exercise Retry-After. */
      minRetries: positiveInt.default(1),
    })
    .meta({
      description:
        "Retry-After is accurate: of the shed answers, the share whose retry at the named time got a good answer (a shed answer without a usable Retry-After counts as a failed retry). Needs load.honourRetryAfter.",
    }),

  evaluate(spec, id, ctx) {
    const minRetries = spec.minRetries ?? 1;
    const log = ctx.retries ?? { links: [], withoutRetryAfter: 0, unsent: 0 };
    const r = retrySuccess(ctx.data.retrySummary(log), spec.degradedCountsAsGood ?? true);
    const few = r.attempts < minRetries;
    const d = `retries at Retry-After answered good >= ${pct(spec.min)} (${r.good} of ${r.attempts}${few ? `; needs at least ${minRetries}, so Retry-After was not exercised` : ""})`;
    return {
      verdicts: [
        judge(
          {
            id,
            description: d,
            metric: "retries.goodRatio",
            comparator: ">=",
            bound: spec.min,
            unit: "ratio",
          },
          few ? null : r.ratio,
        ),
      ],
    };
  },

  check(_spec, i, scenario) {
    if (scenario.honourRetryAfter) return [];
    return [
      {
        path: ["slos", i, "kind"],
        message: '"retry-after" needs a load that retries shed answers',
        hint: "add `honourRetryAfter: true` under load",
      },
    ];
  },

  k6Thresholds: (_spec, name) => [
    { note: `${name}: retry-after skipped (the exported script does not retry shed answers)` },
  ],

  standing: (_spec, id) => pending(id, "judged at end"),
});
