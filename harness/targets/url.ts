import type { TargetSpec } from "../scenario/schema.js";
import type { TargetKind } from "./kind.js";
import type { RunningTarget } from "./target.js";

type UrlSpec = Extract<TargetSpec, { kind: "url" }>;

/** An already running service: nothing to start or stop; steady-state checks decide whether it is up. */
export function startUrl(spec: UrlSpec): Promise<RunningTarget> {
  const url = spec.baseUrl.replace(/\/+$/, "");
  return Promise.resolve({
    kind: "url",
    description: url,
    url,
    handles: {},
    stop: () => Promise.resolve(),
  });
}

export const urlKind: TargetKind<UrlSpec> = {
  start: (spec) => startUrl(spec),
  faultTargets: () => ["load", "link:client-api"],
  check: () => [],
  referenceOptions: () => null,
  servesMetrics: () => false,
  dashboardHealth: () => false,
  k6BaseUrl: (t) => t.baseUrl,
};
