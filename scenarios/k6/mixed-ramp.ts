/**
 * k6 script exported by faultline from scenario "mixed-ramp" (seed 7).
 * Regenerate with `faultline export k6 SCENARIO`; edits here are lost.
 *
 * Run: k6 run --out json=points.json -e FAULTLINE_BASE_URL=http://host:port this-file.ts
 * (k6 >= 0.57 runs TypeScript as is; older: --compatibility-mode=experimental_enhanced).
 * The summary for faultline goes to FAULTLINE_SUMMARY (default faultline-k6-summary.json).
 *
 * Limits of the mapping:
 * - k6 measures latency from the actual send. faultline measures from the intended send,
 *   so when the target stalls and k6 runs out of VUs (dropped_iterations), k6's percentiles
 *   under-report the stall (coordinated omission); watch dropped_iterations.
 * - Arrivals are k6's evenly spaced arrival-rate schedule; `arrivals: poisson` is not kept.
 * - load-burst faults are part of the stages above; every other fault is injected by
 *   faultline when it drives k6 (load.driver: k6), and is not in this script.
 * - Streams are read whole (k6 has no incremental reads); a stream is good when it ends
 *   with `data: [DONE]` and carries no error event.
 * - p99: P99 measured by k6 from the actual send, not the intended one
 * - p50-during: latency in phase "during" skipped (k6 cannot split at fault instants)
 * - uptime: uptime skipped (needs fault windows; faultline evaluates it)
 */
import http, { type Response } from "k6/http";
import exec from "k6/execution";
import { Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";

const SCENARIO = "mixed-ramp";
const SEED = 7;
const DEADLINE = "2000ms";
const BASE_URL = __ENV.FAULTLINE_BASE_URL ?? "http://127.0.0.1:9000";
const SUMMARY_PATH = __ENV.FAULTLINE_SUMMARY ?? "faultline-k6-summary.json";

export const options: Options = {
  scenarios: {
    load: {
      executor: "ramping-arrival-rate",
      startRate: 25,
      timeUnit: "10s",
      stages: [
        {
          duration: "10s",
          target: 100,
        },
        {
          duration: "10s",
          target: 100,
        },
        {
          duration: "0s",
          target: 200,
        },
        {
          duration: "5s",
          target: 200,
        },
        {
          duration: "0s",
          target: 100,
        },
        {
          duration: "5s",
          target: 100,
        },
        {
          duration: "0s",
          target: 40,
        },
        {
          duration: "20s",
          target: 40,
        },
      ],
      preAllocatedVUs: 20,
      maxVUs: 64,
      gracefulStop: "2s",
    },
  },
  thresholds: {
    faultline_full: ["rate>=0.995"],
    http_req_duration: ["p(95)<=1500", "p(99)<=2000"],
    http_req_failed: ["rate<=0.002"],
  },
  summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"],
};

const TEMPLATES: readonly Template[] = [
  {
    name: "chat",
    weight: 4,
    method: "POST",
    path: "/v1/chat/completions",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
    },
    body: '{"model":"sim-utility","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16,"stream":false}',
    stream: false,
    expect: null,
  },
  {
    name: "chat-stream",
    weight: 2,
    method: "POST",
    path: "/v1/chat/completions",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: '{"model":"sim-reasoning","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16,"stream":true}',
    stream: true,
    expect: null,
  },
  {
    name: "completion",
    weight: 1,
    method: "POST",
    path: "/v1/completions",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
    },
    body: '{"model":"sim-utility","prompt":"Once upon a time","max_tokens":16,"stream":false}',
    stream: false,
    expect: null,
  },
  {
    name: "embedding",
    weight: 1,
    method: "POST",
    path: "/v1/embeddings",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
    },
    body: '{"model":"sim-embed","input":"hello"}',
    stream: false,
    expect: null,
  },
  {
    name: "models",
    weight: 0.5,
    method: "GET",
    path: "/v1/models",
    headers: {},
    body: null,
    stream: false,
    expect: [200, 304],
  },
];

interface Template {
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

type Outcome = "ok" | "degraded" | "shed" | "error" | "timeout" | "conn";

/** 1 per full-quality answer, 0 otherwise (availability when degraded counts as down). */
const full = new Rate("faultline_full");
/** One point per request: what faultline reads back into its run record. */
const requests = new Trend("faultline_request", true);

const CUMULATIVE: readonly number[] = TEMPLATES.reduce<number[]>((acc, t) => {
  acc.push((acc[acc.length - 1] ?? 0) + t.weight);
  return acc;
}, []);
const TOTAL_WEIGHT = CUMULATIVE[CUMULATIVE.length - 1] ?? 1;

/** http_req_failed counts what the template does not expect (a degraded answer is still 2xx). */
const CALLBACKS = TEMPLATES.map((t) =>
  t.expect === null ? http.expectedStatuses({ min: 200, max: 299 }) : http.expectedStatuses(...t.expect),
);

/**
 * A uniform number in [0, 1) from (seed, iteration) alone, so every VU and every k6 instance
 * makes the same choice for the same iteration (mulberry32 finaliser over a mixed key).
 */
function uniform(seed: number, n: number): number {
  let t = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n + 1, 0xc2b2ae35)) >>> 0;
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function pick(n: number): number {
  const x = uniform(SEED, n) * TOTAL_WEIGHT;
  const i = CUMULATIVE.findIndex((c) => x < c);
  return i < 0 ? CUMULATIVE.length - 1 : i;
}

function streamComplete(body: unknown): boolean {
  if (typeof body !== "string") return false;
  return body.includes("data: [DONE]") && !body.includes('data: {"error"') && !body.includes("event: error");
}

/** k6 error codes: 1050 request timeout; 1100-1199 DNS and 1200-1299 TCP failures. */
function classify(res: Response, t: Template): Outcome {
  if (res.status === 0) {
    if (res.error_code === 1050) return "timeout";
    return res.error_code >= 1100 && res.error_code < 1300 ? "conn" : "error";
  }
  const good = t.expect === null ? res.status >= 200 && res.status < 300 : t.expect.includes(res.status);
  if (good) {
    if (t.stream && !streamComplete(res.body)) return "error";
    const level = res.headers["X-Faultline-Service-Level"];
    return level !== undefined && level !== "full" ? "degraded" : "ok";
  }
  return res.status === 429 || res.status === 503 ? "shed" : "error";
}

export default function (): void {
  const n = exec.scenario.iterationInTest;
  const index = pick(n);
  const t = TEMPLATES[index];
  exec.vu.metrics.metadata["fl_iter"] = String(n);
  exec.vu.metrics.metadata["fl_start"] = String(exec.scenario.startTime);
  const template = String(index);
  const res = http.request(t.method, BASE_URL + t.path, t.body, {
    headers: t.headers,
    timeout: DEADLINE,
    tags: { name: t.name, fl_template: template },
    responseCallback: CALLBACKS[index],
  });
  const outcome = classify(res, t);
  full.add(outcome === "ok");
  requests.add(res.timings.duration, {
    fl_template: template,
    fl_outcome: outcome,
    status: String(res.status),
  });
}

interface SummaryMetric {
  readonly type: string;
  readonly values: Readonly<Record<string, number>>;
  readonly thresholds?: Readonly<Record<string, { readonly ok: boolean }>>;
}

interface SummaryData {
  readonly metrics: Readonly<Record<string, SummaryMetric>>;
  readonly state?: { readonly testRunDurationMs: number };
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const summary = {
    format: "faultline-k6-summary",
    version: 1,
    scenario: SCENARIO,
    seed: SEED,
    templates: TEMPLATES.map((t) => t.name),
    data,
  };
  const lines = Object.entries(data.metrics).flatMap(([name, m]) =>
    Object.entries(m.thresholds ?? {}).map(([expr, r]) => (r.ok ? "PASS " : "FAIL ") + name + ": " + expr),
  );
  return {
    [SUMMARY_PATH]: JSON.stringify(summary, null, 2) + "\n",
    stdout: ["faultline k6 run of " + SCENARIO, ...lines, ""].join("\n"),
  };
}
