import { prepareRequest, type PreparedRequest } from "../load/templates.js";
import type { Scenario, TargetSpec } from "../scenario/schema.js";
import { buildPlan } from "../scenario/plan.js";
import { targetKind } from "../targets/kinds.js";
import { k6ScenarioFor, type RateBurst } from "./executor.js";
import { mapSlosToThresholds } from "./thresholds.js";
import { SCRIPT_BODY } from "./script-body.js";

/**
 * `faultline export k6 SCENARIO`: the scenario's load and SLOs as a k6 script in TypeScript
 * (typed with @types/k6; k6 >= 0.57 runs .ts files as they are). The script is data (options,
 * templates, seed) generated here, followed by one fixed body (script-body.ts) that picks a
 * template per iteration, sends it, classifies the answer as faultline does and writes a
 * summary the harness reads (summary.ts).
 */

/** What one request of the mix looks like inside the script. */
export interface K6Template {
  readonly name: string;
  readonly weight: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly stream: boolean;
  /** Good statuses; null = any 2xx. */
  readonly expect: readonly number[] | null;
}

export function k6Templates(scenario: Scenario): K6Template[] {
  return scenario.load.mix.map((t) => {
    const p: PreparedRequest = prepareRequest(t);
    return {
      name: p.label,
      weight: t.weight,
      method: p.method,
      path: p.path,
      headers: p.headers,
      body: p.body ?? null,
      stream: p.stream,
      expect: p.expectStatus ? [...p.expectStatus].sort((a, b) => a - b) : null,
    };
  });
}

/** Base URL written into the script; FAULTLINE_BASE_URL overrides it at run time. */
export function defaultBaseUrl(target: TargetSpec): string {
  return targetKind(target).k6BaseUrl(target);
}

/** The scenario's load-burst occurrences, baked into the k6 stages. */
export function loadBursts(scenario: Scenario): RateBurst[] {
  return buildPlan(scenario).faults.flatMap((f) =>
    f.kind === "load-burst" && f.endMs !== null && typeof f.params.multiplier === "number"
      ? [{ startMs: f.startMs, endMs: f.endMs, multiplier: f.params.multiplier }]
      : [],
  );
}

/** Everything the generated `options` export holds. */
export function k6Options(scenario: Scenario): Record<string, unknown> {
  const { thresholds } = mapSlosToThresholds(scenario.slos);
  return {
    scenarios: { load: k6ScenarioFor(scenario.load, scenario.seed, loadBursts(scenario)) },
    thresholds,
    summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"],
  };
}

function header(scenario: Scenario): string {
  const { notes } = mapSlosToThresholds(scenario.slos);
  const lines = [
    `k6 script exported by faultline from scenario "${scenario.name}" (seed ${scenario.seed}).`,
    "Regenerate with `faultline export k6 SCENARIO`; edits here are lost.",
    "",
    "Run: k6 run --out json=points.json -e FAULTLINE_BASE_URL=http://host:port this-file.ts",
    "(k6 >= 0.57 runs TypeScript as is; older: --compatibility-mode=experimental_enhanced).",
    "The summary for faultline goes to FAULTLINE_SUMMARY (default faultline-k6-summary.json).",
    "",
    "Limits of the mapping:",
    "- k6 measures latency from the actual send. faultline measures from the intended send,",
    "  so when the target stalls and k6 runs out of VUs (dropped_iterations), k6's percentiles",
    "  under-report the stall (coordinated omission); watch dropped_iterations.",
    "- Arrivals are k6's evenly spaced arrival-rate schedule; `arrivals: poisson` is not kept.",
    "- load-burst faults are part of the stages above; every other fault is injected by",
    "  faultline when it drives k6 (load.driver: k6), and is not in this script.",
    "- Streams are read whole (k6 has no incremental reads); a stream is good when it ends",
    "  with `data: [DONE]` and carries no error event.",
    ...(scenario.load.honourRetryAfter
      ? ["- `load.honourRetryAfter` is not kept: a shed answer is final (it is not retried)."]
      : []),
    ...notes.map((n) => `- ${n}`),
  ];
  return ["/**", ...lines.map((l) => (l === "" ? " *" : ` * ${l}`)), " */"].join("\n");
}

export function exportK6Script(scenario: Scenario): string {
  const json = (v: unknown): string => JSON.stringify(v, null, 2);
  return [
    header(scenario),
    'import http, { type Response } from "k6/http";',
    'import exec from "k6/execution";',
    'import { Rate, Trend } from "k6/metrics";',
    'import type { Options } from "k6/options";',
    "",
    `const SCENARIO = ${JSON.stringify(scenario.name)};`,
    `const SEED = ${scenario.seed};`,
    `const DEADLINE = ${JSON.stringify(`${scenario.load.deadline}ms`)};`,
    `const BASE_URL = __ENV.FAULTLINE_BASE_URL ?? ${JSON.stringify(defaultBaseUrl(scenario.target))};`,
    'const SUMMARY_PATH = __ENV.FAULTLINE_SUMMARY ?? "faultline-k6-summary.json";',
    "",
    `export const options: Options = ${json(k6Options(scenario))};`,
    "",
    `const TEMPLATES: readonly Template[] = ${json(k6Templates(scenario))};`,
    "",
    SCRIPT_BODY,
  ].join("\n");
}
