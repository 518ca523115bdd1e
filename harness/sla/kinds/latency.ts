import { z } from "zod";
import { judged, pending } from "../../dashboard/live-standing.js";
import { latency } from "../../dashboard/format.js";
import { duration } from "../../scenario/duration.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import { sloBase } from "./fields.js";

/** One latency percentile over a phase of the run, at most `max`. */
export const latencySlo = defineSloKind({
  kind: "latency",
  schema: z.strictObject({
    ...sloBase,
    kind: z.literal("latency"),
    percentile: z.literal([50, 95, 99]),
    max: duration(),
    /** "intended" measures from the intended send time (coordinated-omission free); "service" from the actual send. */
    from: z.enum(["intended", "service"]).default("intended"),
    phase: z.enum(["all", "before", "during", "after"]).default("all"),
  }),

  evaluate(spec, id, ctx) {
    const from = spec.from ?? "intended";
    const phase = spec.phase ?? "all";
    const s = ctx.data.latency(from, phase);
    const measured = spec.percentile === 50 ? s.p50 : spec.percentile === 95 ? s.p95 : s.p99;
    const d = `P${spec.percentile} latency (${from === "intended" ? "from intended send" : "service time"}, ${phase}) <= ${spec.max} ms`;
    return {
      verdicts: [
        judge(
          {
            id,
            description: d,
            metric: `latency.${from}.${phase}.p${spec.percentile}`,
            comparator: "<=",
            bound: spec.max,
            unit: "ms",
          },
          measured,
        ),
      ],
    };
  },

  check: (spec, i, scenario) =>
    (spec.phase ?? "all") === "during" && scenario.faultIds.size === 0
      ? [{ path: ["slos", i, "phase"], message: 'phase "during" needs at least one fault, found none' }]
      : [],

  k6Thresholds(spec, name) {
    const phase = spec.phase ?? "all";
    if (phase !== "all")
      return [{ note: `${name}: latency in phase "${phase}" skipped (k6 cannot split at fault instants)` }];
    const entry = { metric: "http_req_duration", expression: `p(${spec.percentile})<=${spec.max}` };
    return (spec.from ?? "intended") === "intended"
      ? [
          entry,
          { note: `${name}: P${spec.percentile} measured by k6 from the actual send, not the intended one` },
        ]
      : [entry];
  },

  standing(spec, id, live) {
    if ((spec.from ?? "intended") !== "intended" || (spec.phase ?? "all") !== "all")
      return pending(id, "judged at end");
    const v = live.recentLatency[`p${spec.percentile}`];
    if (v === null) return pending(id, "no answers yet");
    return judged(id, v <= spec.max, `p${spec.percentile} ${latency(v)} <= ${latency(spec.max)} (recent)`);
  },
});
