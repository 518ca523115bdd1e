import type { TargetSpec } from "../../scenario/schema.js";
import type { TargetKind } from "../kind.js";
import { checkReferenceOptions, startReference } from "./process.js";

type ReferenceSpec = Extract<TargetSpec, { kind: "reference" }>;

/** With replicas: each one by number (`api#1`, `worker#1`, ...) and the balancer (`lb`). */
function replicaTargetNames(replicas: number): string[] {
  if (replicas <= 1) return [];
  const n = Array.from({ length: replicas }, (_, i) => i + 1);
  return [...n.map((i) => `api#${i}`), ...n.map((i) => `worker#${i}`), "lb"];
}

/** The built-in reference service (`kind: reference`), run as local processes. */
export const referenceKind: TargetKind<ReferenceSpec> = {
  start: startReference,
  faultTargets: (t) => [
    "api",
    "worker",
    "spool",
    "gpu",
    "host",
    "load",
    "link:client-api",
    ...(t.upstreamLink ? ["link:api-upstream"] : []),
    ...(t.modelSource ? ["link:model-source"] : []),
    ...replicaTargetNames(t.replicas),
  ],
  // The adapter validates the options as the service will; paths under target.options.
  check: (t) =>
    checkReferenceOptions(t.options).issues.map((i) => ({
      path: ["target", "options", ...i.path],
      message: i.message,
      ...(i.hint === undefined ? {} : { hint: i.hint }),
    })),
  referenceOptions: (t) => t.options,
  servesMetrics: () => true,
  dashboardHealth: () => true,
  k6BaseUrl: () => "http://127.0.0.1:8080",
};
