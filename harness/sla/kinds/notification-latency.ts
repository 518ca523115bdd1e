import { z } from "zod";
import { pending } from "../../dashboard/live-standing.js";
import { duration } from "../../scenario/duration.js";
import { notificationVerdicts } from "../notifications.js";
import { defineSloKind } from "./kind.js";
import { faultScope, faultScopeIssues, sloBase } from "./fields.js";

/** A WebSocket the target serves pushed a message of a given type within a bound of each fault. */
export const notificationLatencySlo = defineSloKind({
  kind: "notification-latency",
  schema: z
    .strictObject({
      ...sloBase,
      kind: z.literal("notification-latency"),
      url: z
        .string()
        .regex(/^(\/|wss?:\/\/)/, "a path on the target (/...) or a ws:// or wss:// URL")
        .meta({
          description:
            "The WebSocket to subscribe to for the whole run: a path on the target (its base URL with ws:// for http://) or a full ws:// or wss:// URL. One subscription per distinct url and field.",
        }),
      event: z.string().min(1).meta({
        description: "The message type to wait for: the value of `field` in the message's JSON object.",
      }),
      field: z.string().min(1).default("type").meta({
        description: "The JSON field of each message that names its type.",
      }),
      max: duration().meta({
        description: "Latest first `event` message after each fault's injection.",
      }),
      fault: faultScope,
    })
    .meta({
      description:
        "Judges push notifications: the harness subscribes to a WebSocket on the target during the run and records each JSON message's type with its arrival time; per fault, the first message of type `event` at or after the fault's injection must arrive within `max`.",
    }),

  evaluate: (spec, id, ctx) => ({
    verdicts: notificationVerdicts(
      spec,
      id,
      ctx.faultWindows ?? [],
      (ctx.notifications ?? []).filter((n) => n.field === (spec.field ?? "type")),
    ),
  }),

  check: (spec, i, scenario) => faultScopeIssues(spec.kind, spec.fault, i, scenario.faultIds),

  k6Thresholds: (_spec, name) => [
    { note: `${name}: notification-latency skipped (faultline's WebSocket subscriber judges it)` },
  ],

  standing: (_spec, id) => pending(id, "judged at end"),
});
