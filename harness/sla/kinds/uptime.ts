import { z } from "zod";
import { liveUptime } from "../../dashboard/levels.js";
import { judged, pending } from "../../dashboard/live-standing.js";
import { percent } from "../../dashboard/format.js";
import { MINIMUMS_MS } from "../../scenario/limits.js";
import { duration } from "../../scenario/duration.js";
import { degradedGoodAt, sloLevel } from "../levels.js";
import { judge } from "../verdict.js";
import { defineSloKind } from "./kind.js";
import {
  degradedSynonym,
  level,
  levelConflict,
  levelName,
  levelsAgree,
  needsFaultWindows,
  pct,
  ratio,
  sloBase,
} from "./fields.js";

/** Windows whose good ratio meets `threshold`, as a share of all windows, at least `min`. */
export const uptimeSlo = defineSloKind({
  kind: "uptime",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("uptime"),
      min: ratio,
      window: duration(MINIMUMS_MS.interval).prefault("1s"),
      /** A window is up when its good ratio is at least this. */
      threshold: ratio.default(0.99),
      level,
      degradedCountsAsGood: degradedSynonym,
    })
    .refine(levelsAgree, levelConflict),

  evaluate(spec, id, ctx) {
    const windowMs = spec.window ?? 1000;
    const threshold = spec.threshold ?? 0.99;
    const up = ctx.data.uptime(windowMs, threshold, degradedGoodAt(sloLevel(spec)));
    const d = `uptime (${levelName(sloLevel(spec))}) >= ${pct(spec.min)} (${windowMs} ms windows, up when good ratio >= ${pct(threshold)})`;
    return {
      verdicts: [
        judge({ id, description: d, metric: "uptime", comparator: ">=", bound: spec.min, unit: "ratio" }, up),
      ],
    };
  },

  check: () => [],

  k6Thresholds: (spec, name) => [needsFaultWindows(name, spec.kind)],

  standing(spec, id, live) {
    const r = liveUptime(live.seconds, spec.window ?? 1000, spec.threshold ?? 0.99, sloLevel(spec));
    if (r === null) return pending(id, "no whole window yet");
    return judged(id, r >= spec.min, `${percent(r)} of windows up >= ${percent(spec.min)}`);
  },
});
