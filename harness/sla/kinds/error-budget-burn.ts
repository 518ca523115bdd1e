import { z } from "zod";
import { good, judged, pending, total } from "../../dashboard/live-standing.js";
import { formatRatio } from "../../k6/threshold-entry.js";
import { errorBudget } from "../budget.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import { pct, ratio, sloBase } from "./fields.js";

/** Bad requests over the error budget (1 - target) x requests, at most `max`. */
export const errorBudgetBurnSlo = defineSloKind({
  kind: "error-budget-burn",
  schema: z.strictObject({
    ...sloBase,
    kind: z.literal("error-budget-burn"),
    /** Error budget target (e.g. 0.999); burn = bad / ((1 - target) x requests). */
    target: ratio,
    max: z.number().nonnegative(),
  }),

  evaluate(spec, id, ctx) {
    const b = errorBudget(ctx.data.counts(), spec.target, true);
    const d = `error-budget burn <= ${spec.max} (budget at ${pct(spec.target)})`;
    return {
      verdicts: [
        judge(
          {
            id,
            description: d,
            metric: "errorBudget.burn",
            comparator: "<=",
            bound: spec.max,
            unit: "ratio",
          },
          b.burn ?? (b.badRequests === 0 ? 0 : null),
        ),
      ],
    };
  },

  check: () => [],

  k6Thresholds: (spec) => [
    { metric: "http_req_failed", expression: `rate<=${formatRatio(spec.max * (1 - spec.target))}` },
  ],

  standing(spec, id, live) {
    const all = total(live.totals);
    const budget = (1 - spec.target) * all;
    if (budget <= 0) return pending(id, "no answers yet");
    const burn = (all - good(live.totals, true)) / budget;
    return judged(id, burn <= spec.max, `burn ${burn.toFixed(2)} <= ${spec.max}`);
  },
});
