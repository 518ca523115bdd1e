import { DEFAULT_MARKING, jsonLevel, type LevelMarking } from "../load/levels.js";
import { request } from "undici";
import type { Clock } from "../../common/clock.js";
import { isGood, OUTCOMES, type Outcome } from "../../common/outcome.js";
import { ROUTES } from "../targets/protocol.js";
import { compileLoadPlan, runLoad } from "../load/index.js";
import type { RequestTemplate, SteadyStateCheck } from "../scenario/schema.js";
import { formatDuration } from "../scenario/duration.js";
import { fetchText } from "./scraper.js";
import { parseExposition, toSeries } from "./prometheus-text.js";
import { chatCompletionProblem } from "./openai-shape.js";

export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface CheckContext {
  /** Base URL checks talk to (as the client sees the target). */
  readonly baseUrl: string;
  /** The target's own URL (for /metrics, which toxics on the client link should not hide). */
  readonly targetUrl: string;
  readonly clock: Clock;
  readonly seed: number;
  readonly template: RequestTemplate;
  readonly deadlineMs: number;
  /** How the target marks its level (scenario target.levels); default the reference service's. */
  readonly levels?: LevelMarking;
  /** Metric series read just before the load started, for `change` checks; null if not read. */
  readonly baseline?: Readonly<Record<string, number>> | null;
}

/** Every metric series the target exposes now (the baseline for `change` checks). */
export async function readMetricSeries(targetUrl: string): Promise<Record<string, number>> {
  return toSeries(parseExposition(await fetchText(`${targetUrl}${ROUTES.metrics}`, 2000)));
}

/**
 * The steady-state hypothesis: checks that must hold before faults start (or the run is not
 * carried out) and again at the end (or the run is void). Each check reports what it saw.
 */
export async function runChecks(
  checks: readonly SteadyStateCheck[],
  ctx: CheckContext,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, ctx));
  return results;
}

export function checkName(check: SteadyStateCheck): string {
  if (check.name) return check.name;
  switch (check.kind) {
    case "http":
      return `${check.method} ${check.url} -> ${check.status}${check.shape ? ` ${check.shape}` : ""}`;
    case "availability":
      return `availability >= ${check.min * 100}% over ${formatDuration(check.over)}`;
    case "metric":
      return `${check.series}${check.change ? " change" : ""} ${check.op} ${check.value}`;
    default: {
      const never: never = check;
      return never;
    }
  }
}

async function runCheck(check: SteadyStateCheck, ctx: CheckContext): Promise<CheckResult> {
  const name = checkName(check);
  switch (check.kind) {
    case "http":
      return { name, ...(await httpCheck(check, ctx)) };
    case "availability":
      return { name, ...(await availabilityCheck(check, ctx)) };
    case "metric":
      return { name, ...(await metricCheck(check, ctx)) };
    default: {
      const never: never = check;
      return never;
    }
  }
}

const resolveUrl = (url: string, base: string): string => (/^https?:\/\//.test(url) ? url : `${base}${url}`);

async function httpCheck(
  check: Extract<SteadyStateCheck, { kind: "http" }>,
  ctx: CheckContext,
): Promise<Omit<CheckResult, "name">> {
  const url = resolveUrl(check.url, ctx.baseUrl);
  const until = ctx.clock.now() + check.within;
  for (;;) {
    let seen: string;
    let passed = false;
    let statusSeen = false;
    try {
      const res = await request(url, {
        method: check.method,
        headersTimeout: check.timeout,
        bodyTimeout: check.timeout,
        headers: {
          ...(check.body !== undefined ? { "content-type": "application/json" } : {}),
          ...check.headers,
        },
        ...(check.body !== undefined ? { body: check.body } : {}),
      });
      seen = `HTTP ${res.statusCode}`;
      passed = statusSeen = res.statusCode === check.status;
      if (check.shape === undefined && check.levels === undefined) await res.body.dump();
      else {
        const answer = judgeAnswer(check, ctx, res.headers, await res.body.text(), seen);
        passed &&= answer.passed;
        seen = answer.seen;
      }
    } catch (e) {
      seen = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    if (passed) return { passed: true, detail: seen };
    if (ctx.clock.now() >= until)
      return { passed: false, detail: statusSeen ? seen : `expected HTTP ${check.status}, got ${seen}` };
    await ctx.clock.sleep(100);
  }
}

/** The answer's shape and level, for http checks that name them. */
function judgeAnswer(
  check: Extract<SteadyStateCheck, { kind: "http" }>,
  ctx: CheckContext,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  seen: string,
): { passed: boolean; seen: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const level = levelOf(ctx.levels ?? DEFAULT_MARKING, headers, json);
  let detail = `${seen}, level ${level}`;
  let passed = check.levels === undefined || check.levels.includes(level);
  if (!passed) detail += ` (expected ${check.levels?.join(" or ") ?? ""})`;
  if (check.shape !== undefined) {
    const problem = json === undefined ? "the body is not JSON" : chatCompletionProblem(json);
    detail += problem === null ? `, ${check.shape} shape` : `, not ${check.shape}: ${problem}`;
    passed &&= problem === null;
  }
  return { passed, seen: detail };
}

/** The level the answer is marked with; an unmarked answer is at full service (the level protocol's rule). */
function levelOf(
  marking: LevelMarking,
  headers: Record<string, string | string[] | undefined>,
  json: unknown,
): string {
  const header = marking.header === null ? undefined : headers[marking.header];
  const marked =
    (typeof header === "string" ? header : undefined) ??
    (marking.jsonPath === null ? undefined : jsonLevel(json, marking.jsonPath));
  return marked === undefined || !marking.belowFull(marked) ? "full" : marked;
}

async function availabilityCheck(
  check: Extract<SteadyStateCheck, { kind: "availability" }>,
  ctx: CheckContext,
): Promise<Omit<CheckResult, "name">> {
  const plan = compileLoadPlan({
    rate: check.rate,
    duration: check.over,
    mix: [ctx.template],
    seed: ctx.seed,
  });
  const result = await runLoad(plan, {
    baseUrl: ctx.baseUrl,
    deadlineMs: ctx.deadlineMs,
    maxInFlight: 64,
    clock: ctx.clock,
    ...(ctx.levels ? { levels: ctx.levels } : {}),
  });
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (let i = 0; i < result.columns.length; i++)
    counts[OUTCOMES[result.columns.outcome[i] ?? 0] ?? "error"]++;
  const total = result.columns.length;
  const good = OUTCOMES.reduce((sum, o) => sum + (isGood(o, check.degradedCountsAsGood) ? counts[o] : 0), 0);
  const ratio = total === 0 ? 0 : good / total;
  const detail = `${good}/${total} good (${(ratio * 100).toFixed(2)}%)`;
  return { passed: total > 0 && ratio >= check.min, detail };
}

async function metricCheck(
  check: Extract<SteadyStateCheck, { kind: "metric" }>,
  ctx: CheckContext,
): Promise<Omit<CheckResult, "name">> {
  let series: Record<string, number>;
  try {
    series = await readMetricSeries(ctx.targetUrl);
  } catch (e) {
    return { passed: false, detail: `could not read ${ROUTES.metrics}: ${(e as Error).message}` };
  }
  const value = series[check.series];
  if (value === undefined) return { passed: false, detail: `series ${check.series} not exposed` };
  if (!check.change)
    return { passed: compare(value, check.op, check.value), detail: `${check.series} = ${value}` };
  const start = ctx.baseline?.[check.series];
  if (start === undefined)
    return { passed: false, detail: `series ${check.series} was not read before the load started` };
  const delta = value - start;
  return {
    passed: compare(delta, check.op, check.value),
    detail: `${check.series} changed by ${delta} (${start} before the load, ${value} now)`,
  };
}

function compare(a: number, op: "==" | "<=" | ">=" | "<" | ">", b: number): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "<=":
      return a <= b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case ">":
      return a > b;
    default: {
      const never: never = op;
      return never;
    }
  }
}
