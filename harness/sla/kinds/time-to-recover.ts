import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { duration } from "../../scenario/duration.js";
import { faultTimeVerdicts } from "../fault-verdicts.js";
import { sloLevel } from "../levels.js";
import { defineSloKind } from "./kind.js";
import {
  degradedSynonym,
  faultScope,
  faultScopeIssues,
  level,
  levelConflict,
  levelsAgree,
  needsFaultWindows,
  sloBase,
} from "./fields.js";

/** From each fault's end to the service's recovery (full service by default), at most `max`. */
export const timeToRecoverSlo = defineSloKind({
  kind: "time-to-recover",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("time-to-recover"),
      max: duration(),
      fault: faultScope,
      /** answered: time to answer again (fallbacks count); full (default): time to full service. */
      level,
      degradedCountsAsGood: degradedSynonym,
    })
    .refine(levelsAgree, levelConflict),

  evaluate: (spec, id, ctx) => ({ verdicts: faultTimeVerdicts(spec, sloLevel(spec), id, ctx.faults) }),

  check: (spec, i, scenario) => faultScopeIssues(spec.kind, spec.fault, i, scenario.faultIds),

  k6Thresholds: (spec, name) => [needsFaultWindows(name, spec.kind)],

  standing: (_spec, id) => pending(id, "judged at end"),
});
