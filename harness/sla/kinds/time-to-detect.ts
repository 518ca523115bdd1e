import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { duration } from "../../scenario/duration.js";
import { faultTimeVerdicts } from "../fault-verdicts.js";
import { defineSloKind } from "./kind.js";
import { faultScope, faultScopeIssues, needsFaultWindows, sloBase } from "./fields.js";

/** From each fault's start to the service's first signal of it, at most `max`. */
export const timeToDetectSlo = defineSloKind({
  kind: "time-to-detect",
  schema: z.strictObject({
    ...sloBase,
    kind: z.literal("time-to-detect"),
    max: duration(),
    fault: faultScope,
  }),

  evaluate: (spec, id, ctx) => ({ verdicts: faultTimeVerdicts(spec, "detect", id, ctx.faults) }),

  check: (spec, i, scenario) => faultScopeIssues(spec.kind, spec.fault, i, scenario.faultIds),

  k6Thresholds: (spec, name) => [needsFaultWindows(name, spec.kind)],

  standing: (_spec, id) => pending(id, "judged at end"),
});
