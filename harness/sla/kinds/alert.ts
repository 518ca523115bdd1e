import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { duration } from "../../scenario/duration.js";
import { alertVerdicts } from "../alerts.js";
import { defineSloKind } from "./kind.js";
import { faultScope, faultScopeIssues, sloBase } from "./fields.js";

/** An alert the target sent fired (and resolved) within bounds of each fault, or never fired. */
export const alertSlo = defineSloKind({
  kind: "alert",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("alert"),
      alert: z.string().min(1).optional().meta({
        description:
          "The alertname label to judge. With fires: false it may be omitted: then no alert of any name may fire.",
      }),
      fires: z.boolean().default(true).meta({
        description:
          "true: the alert must fire within `within` of each fault's start (and resolve within `resolvesWithin` of the fault's recovery to full service, if given). false: it must not fire at all during the run.",
      }),
      within: duration().optional().meta({
        description: "With fires: true (required): latest firing notification after the fault's start.",
      }),
      resolvesWithin: duration().optional().meta({
        description:
          "With fires: true: latest resolved notification after the fault's recovery to full service (an alert still firing at the run's end misses).",
      }),
      fault: faultScope,
    })
    .superRefine((v, ctx) => {
      if (v.fires) {
        if (v.alert === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["alert"],
            message: "name the alert that must fire (its alertname label)",
          });
        if (v.within === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["within"],
            message: "say how soon after the fault's start the alert must fire (e.g. within: 10s)",
          });
        return;
      }
      for (const key of ["within", "resolvesWithin", "fault"] as const)
        if (v[key] !== undefined)
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `${key} applies to an alert that must fire; with fires: false the alert must not fire at all (remove ${key})`,
          });
    })
    .meta({
      description:
        "Judges alerts a target sent to the run's Alertmanager-format receiver (needs the scenario's `alerts` section): fired within a bound of a fault and resolved after recovery, or never fired.",
    }),

  evaluate: (spec, id, ctx) => ({
    verdicts: alertVerdicts(spec, id, ctx.faultWindows ?? [], ctx.faults, ctx.alerts ?? []),
  }),

  check(spec, i, scenario) {
    // An alert that must fire is judged per fault, as recovery is.
    const scope = (spec.fires ?? true) ? faultScopeIssues(spec.kind, spec.fault, i, scenario.faultIds) : [];
    if (scenario.receivesAlerts) return scope;
    return [
      ...scope,
      {
        path: ["slos", i, "kind"],
        message: "an alert SLO judges the alerts the run receives, and this scenario receives none",
        hint: "add `alerts: {}` (the harness then listens for Alertmanager webhook payloads and gives the target the URL)",
      },
    ];
  },

  k6Thresholds: (_spec, name) => [{ note: `${name}: alert skipped (faultline's alert receiver judges it)` }],

  standing: (_spec, id) => pending(id, "judged at end"),
});
