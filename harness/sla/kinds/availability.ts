import { z } from "zod";
import { good, judged, pending, total } from "../../dashboard/live-standing.js";
import { percent } from "../../dashboard/format.js";
import { FULL_RATE_METRIC, formatRatio } from "../../k6/threshold-entry.js";
import { degradedGoodAt, sloLevel } from "../levels.js";
import { availability } from "../outcomes.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import {
  degradedSynonym,
  level,
  levelConflict,
  levelName,
  levelsAgree,
  pct,
  ratio,
  sloBase,
} from "./fields.js";

/** Good answers (at the SLO's level) over all requests, at least `min`. */
export const availabilitySlo = defineSloKind({
  kind: "availability",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("availability"),
      min: ratio,
      level,
      degradedCountsAsGood: degradedSynonym,
      attempts: z.enum(["each", "final"]).optional().meta({
        description:
          "each (the default): every attempt counts, a shed answer is bad. final: a shed request that was retried at its Retry-After counts by its retry, as the client saw it (needs load.honourRetryAfter).",
      }),
    })
    .refine(levelsAgree, levelConflict),

  evaluate(spec, id, ctx) {
    const lvl = sloLevel(spec);
    const final = spec.attempts === "final";
    const d = `availability (${levelName(lvl)}) >= ${pct(spec.min)}${final ? " (each request by its final attempt)" : ""}`;
    const counts = final ? ctx.data.finalCounts() : ctx.data.counts();
    return {
      verdicts: [
        judge(
          { id, description: d, metric: "availability", comparator: ">=", bound: spec.min, unit: "ratio" },
          availability(counts, degradedGoodAt(lvl)),
        ),
      ],
    };
  },

  check(spec, i, scenario) {
    if (spec.attempts !== "final" || scenario.honourRetryAfter) return [];
    return [
      {
        path: ["slos", i, "attempts"],
        message: '"final" counts a retried request by its retry, and this load sends no retries',
        hint: "add `honourRetryAfter: true` under load, or remove attempts",
      },
    ];
  },

  k6Thresholds(spec, name) {
    // A degraded answer is a 2xx, so http_req_failed counts it good: right for answered only.
    const entry =
      sloLevel(spec) === "answered"
        ? { metric: "http_req_failed", expression: `rate<=${formatRatio(1 - spec.min)}` }
        : { metric: FULL_RATE_METRIC, expression: `rate>=${formatRatio(spec.min)}` };
    return spec.attempts === "final"
      ? [entry, { note: `${name}: counts every attempt in k6, not each request by its final attempt` }]
      : [entry];
  },

  standing(spec, id, live) {
    const all = total(live.totals);
    if (all === 0) return pending(id, "no answers yet");
    // The live counters do not link a retry to the shed answer it repeats.
    if (spec.attempts === "final")
      return pending(id, "judged at end (retried requests count by their retry)");
    const r = good(live.totals, degradedGoodAt(sloLevel(spec))) / all;
    return judged(id, r >= spec.min, `${percent(r)} >= ${percent(spec.min)}`);
  },
});
