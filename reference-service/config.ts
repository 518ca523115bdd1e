/**
 * Every threshold of the reference service, in one validated object. Sources, later wins:
 * built-in defaults, a JSON/YAML config file (`--config FILE`), then flags. Flags are derived
 * from the config's own leaves (`--breaker.failure-threshold 3`), so a new threshold is a new
 * flag without a second table to keep in sync. Unknown keys are refused, every problem is
 * reported at once with its field path.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidInputError, type InputIssue } from "../common/errors.js";
import { ADMIN_TOKEN_ENV, DEFAULT_STATE_DIR } from "./contract.js";
import { DEFAULT_LADDERS, LADDER_STEPS, type LadderStep } from "./policies/recovery-ladder.js";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
/** A usage threshold: a fraction of the whole in (0, 1], e.g. 0.8 for 80%. */
const usageFraction = z
  .number()
  .gt(0, "expected a fraction in (0, 1], e.g. 0.8 for 80%")
  .max(1, "expected a fraction in (0, 1], e.g. 0.8 for 80% (not 80)");

/** One ladder: known steps, each once, the fallback (which always answers or ends) only last. */
const ladderSteps = z
  .array(z.enum(LADDER_STEPS))
  .min(1, "give at least one step (e.g. [fallback_to_mock])")
  .superRefine((steps, ctx) => {
    const seen = new Set<LadderStep>();
    for (const [i, step] of steps.entries()) {
      if (seen.has(step))
        ctx.addIssue({ code: "custom", path: [i], message: `${step} is listed twice; list each step once` });
      seen.add(step);
      if (step === "fallback_to_mock" && i !== steps.length - 1)
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: "fallback_to_mock must be the last step: the steps after it would never run",
        });
    }
  });

export const serviceConfigSchema = z.strictObject({
  host: z.string().min(1),
  /**
   * Bearer token the state-changing endpoints (model load/unload, breaker reset) require; also
   * FAULTLINE_ADMIN_TOKEN (preferred: a flag shows in `ps`). null = no token: those endpoints
   * are open on a loopback host and refused (403) on any other.
   */
  adminToken: z.string().min(16, "use at least 16 characters (e.g. openssl rand -hex 32)").nullable(),
  /**
   * Bind a non-loopback host without an admin token: exposes the model API, /metrics and
   * /v1/reliability to the network (the state-changing endpoints stay refused). Off = refused.
   */
  allowNonLoopback: z.boolean(),
  port: z.number().int().min(0).max(65535),
  stateDir: z.string().min(1),
  /** Forward to a real OpenAI-compatible server instead of the simulated worker. */
  upstream: z.url().nullable(),
  /** Largest request body accepted, in bytes; larger is answered 413. */
  bodyLimitBytes: positiveInt,
  /** Whole-request deadline (queue time excluded), including every retry. */
  requestTimeoutMs: positiveInt,
  /**
   * An attempt of the primary model that sends no event (first token, next token or the end)
   * for this long fails as backend_timeout: retried, counted by the breaker, then answered by
   * the fallbacks. Without it a black-holed link holds every request for the whole deadline.
   * null = off.
   */
  attemptIdleTimeoutMs: positiveInt.nullable(),
  defaultMaxTokens: positiveInt,
  retry: z.strictObject({
    /** Retries after the first attempt (0 disables). */
    maxRetries: nonNegativeInt,
    initialDelayMs: positiveInt,
    maxDelayMs: positiveInt,
  }),
  breaker: z.strictObject({
    failureThreshold: positiveInt,
    halfOpenAfterMs: positiveInt,
    /**
     * End the open period early when the supervisor reports a fresh worker serving (its first
     * heartbeat after a restart), as active health checks do in Envoy; false waits out the
     * whole halfOpenAfterMs, as the write-ups' breakers do (policies/breaker.ts).
     */
    closeOnFreshWorker: z.boolean(),
  }),
  admission: z.strictObject({
    maxConcurrent: positiveInt,
    maxQueue: nonNegativeInt,
    /** A request waiting longer than this in the queue is shed with 503. */
    queueTimeoutMs: positiveInt,
    /** Window over which the drain rate (completions per second) is observed. */
    rateWindowMs: positiveInt,
    /** Share of the drain rate promised to retries of refused clients (policies/admission.ts). */
    retryShare: z.number().gt(0).max(1),
  }),
  fallback: z.strictObject({
    cache: z.boolean(),
    cacheEntries: positiveInt,
    cpuModel: z.boolean(),
    /** Simulated per-token latency of the CPU fallback model. */
    cpuModelTokenMs: nonNegativeInt,
    static: z.boolean(),
    staticAnswer: z.string(),
  }),
  health: z.strictObject({
    /** Heartbeat older than this = worker not serving (readiness false). */
    heartbeatStaleMs: positiveInt,
    /** Requests running and no token for this long = stalled (readiness false). */
    progressStallMs: positiveInt,
    historySize: positiveInt,
  }),
  supervisor: z.strictObject({
    backoffInitialMs: nonNegativeInt,
    backoffMaxMs: nonNegativeInt,
    backoffMultiplier: z.number().min(1),
    /** Restart at once after a crash of a healthy worker; back off from the second one. */
    firstRestartImmediate: z.boolean(),
    /** A worker that stays up this long resets the backoff sequence. */
    cooldownMs: positiveInt,
    /** A heartbeat older than this (after the worker's first one) = hung: SIGKILL and respawn. */
    hungAfterMs: positiveInt,
    /** How long a fresh worker may take to send its first heartbeat. */
    startTimeoutMs: positiveInt,
    budgetRestarts: positiveInt,
    budgetWindowMs: positiveInt,
    stopTimeoutMs: positiveInt,
    checkIntervalMs: positiveInt,
    /**
     * Keep a spare worker process started up to its modules (no state, no model) beside the
     * serving one; a restart starts the spare instead of a new process (supervisor.ts).
     */
    standby: z.boolean(),
  }),
  /** Ordered recovery ladders (policies/recovery-ladder.ts, write-up 002); off = the fallback chain only. */
  recovery: z.strictObject({
    enabled: z.boolean(),
    /** After a run answered at a later step, runs start there for this long (002: 30 s cooldown). */
    cooldownMs: nonNegativeInt,
    /** apply_vram_optimization: the prompt is cut to its last this many tokens (less KV cache). */
    optimizedContextTokens: positiveInt,
    /** reduce_generation_params: max_tokens is lowered to this. */
    reducedMaxTokens: positiveInt,
    /** restart_pipeline: how long to wait for the supervisor's worker to be serving again. */
    pipelineWaitMs: nonNegativeInt,
    /**
     * The host resources whose critical use (alerts.*CriticalAbove) makes a failure a system
     * resource error (its ladder: system health check -> clear GPU cache -> fallback). Default
     * memory only: on a shared machine the CPU sits at 100% without anything failing for it (a
     * claims run at load average 13 on 2 cores classed every failure as the host's), so counting
     * it would take every other ladder over. [] turns the ladder off.
     */
    systemResources: z.array(z.enum(["cpu", "memory"])),
    ladders: z.strictObject({
      vram_exhaustion: ladderSteps,
      model_loading_failure: ladderSteps,
      pipeline_error: ladderSteps,
      network_error: ladderSteps,
      system_resource_error: ladderSteps,
    }),
  }),
  drain: z.strictObject({
    /** Bound on waiting for in-flight requests after SIGTERM. */
    timeoutMs: nonNegativeInt,
    /** Pause after readiness flips before refusing, so balancers notice. */
    delayMs: nonNegativeInt,
  }),
  /**
   * Alert rules (alerts/rules.ts), evaluated on the service's clock; firing and resolved alerts
   * are shown at GET /v1/reliability/alerts and POSTed to webhookUrl in Alertmanager's format.
   */
  /** GET /v1/reliability/events (WebSocket, api/events.ts): its bounds. */
  events: z.strictObject({
    /** Subscribers at once; one more is refused with 503 before the upgrade. */
    maxClients: positiveInt,
    /** A subscriber with more than this unsent is too slow: closed with 1013 (try again later). */
    maxBufferedBytes: positiveInt,
    /** How often health status and fallback mode are read for change notifications. */
    checkIntervalMs: positiveInt,
  }),
  alerts: z.strictObject({
    /** How often the rules are evaluated; each evaluation is also one health check (readiness). */
    evaluateIntervalMs: positiveInt,
    /** 001: "Circuit Breaker State ... Alert if: OPEN > 5 minutes" (critical). */
    breakerOpenForMs: positiveInt,
    /** Health checks the success rate is taken over (001: "100 check history"). */
    healthCheckWindow: positiveInt,
    /** Warning when the success rate is not above this (001: "Target: > 99%"). */
    healthTargetAbove: z.number().min(0).max(1),
    /** Critical when the success rate is below this (001: "Alert if: < 95%"). */
    healthCriticalBelow: z.number().min(0).max(1),
    /** Worker down (restarting) this long = warning. */
    workerDownForMs: nonNegativeInt,
    /**
     * Read host CPU and memory each evaluation and alert on the thresholds below. They judge the
     * whole machine, not this service: false turns them off (tests that count alerts exactly on
     * a shared machine).
     */
    hostRules: z.boolean(),
    /** 002: "CPU usage thresholds (warning: 80%, critical: 95%)": host CPU (all cores) above = alert. */
    cpuWarningAbove: usageFraction,
    cpuCriticalAbove: usageFraction,
    /** 002: "Memory usage thresholds (warning: 80%, critical: 95%)": 1 - MemAvailable/MemTotal above = alert. */
    memoryWarningAbove: usageFraction,
    memoryCriticalAbove: usageFraction,
    /** POST each firing/resolved alert here (Alertmanager webhook format, version 4); null = none. */
    webhookUrl: z.string().min(1).nullable(),
    /** Allow a webhook on a non-loopback host (alert text leaves the machine). Off = refused. */
    allowNonLoopbackWebhook: z.boolean(),
    webhookTimeoutMs: positiveInt,
  }),
  /** Passed through to the worker (models, GPU, latency); the worker validates it. */
  worker: z.record(z.string(), z.unknown()),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export const DEFAULT_CONFIG: ServiceConfig = {
  host: "127.0.0.1",
  adminToken: null,
  allowNonLoopback: false,
  port: 0,
  stateDir: DEFAULT_STATE_DIR,
  upstream: null,
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  // A third of the deadline: far above a healthy model's gaps between events (the simulated
  // one's are milliseconds; a real engine's first token after a long prefill can take seconds).
  attemptIdleTimeoutMs: 10_000,
  defaultMaxTokens: 16,
  retry: { maxRetries: 2, initialDelayMs: 50, maxDelayMs: 1000 },
  breaker: { failureThreshold: 5, halfOpenAfterMs: 60_000, closeOnFreshWorker: true },
  admission: {
    maxConcurrent: 32,
    maxQueue: 128,
    queueTimeoutMs: 10_000,
    rateWindowMs: 10_000,
    retryShare: 0.5,
  },
  fallback: {
    cache: true,
    cacheEntries: 1000,
    cpuModel: true,
    cpuModelTokenMs: 2,
    static: true,
    staticAnswer: "The model service is degraded; this is a static answer.",
  },
  health: { heartbeatStaleMs: 1000, progressStallMs: 5000, historySize: 20 },
  supervisor: {
    backoffInitialMs: 100,
    backoffMaxMs: 10_000,
    backoffMultiplier: 2,
    firstRestartImmediate: true,
    cooldownMs: 30_000,
    hungAfterMs: 2000,
    startTimeoutMs: 10_000,
    budgetRestarts: 10,
    budgetWindowMs: 60_000,
    stopTimeoutMs: 5000,
    checkIntervalMs: 50,
    // Off by default: with a spare, a worker kill at 10-20 req/s is over before the breaker sees
    // its 5 failures, so what the write-ups' breaker and restart claims describe (and the claims
    // scenarios exercise) would no longer happen. Turn it on to make restarts cheap.
    standby: false,
  },
  recovery: {
    // Off by default: the ladders add attempts before the fallback chain, which changes the
    // timing every existing scenario measured; the claims scenarios of 002 turn them on.
    enabled: false,
    cooldownMs: 30_000,
    optimizedContextTokens: 256,
    reducedMaxTokens: 4,
    pipelineWaitMs: 2000,
    systemResources: ["memory"],
    ladders: {
      vram_exhaustion: [...DEFAULT_LADDERS.vram_exhaustion],
      model_loading_failure: [...DEFAULT_LADDERS.model_loading_failure],
      pipeline_error: [...DEFAULT_LADDERS.pipeline_error],
      network_error: [...DEFAULT_LADDERS.network_error],
      system_resource_error: [...DEFAULT_LADDERS.system_resource_error],
    },
  },
  drain: { timeoutMs: 30_000, delayMs: 0 },
  events: { maxClients: 64, maxBufferedBytes: 1024 * 1024, checkIntervalMs: 100 },
  alerts: {
    evaluateIntervalMs: 1000,
    breakerOpenForMs: 300_000,
    healthCheckWindow: 100,
    healthTargetAbove: 0.99,
    healthCriticalBelow: 0.95,
    workerDownForMs: 0,
    hostRules: true,
    cpuWarningAbove: 0.8,
    cpuCriticalAbove: 0.95,
    memoryWarningAbove: 0.8,
    memoryCriticalAbove: 0.95,
    webhookUrl: null,
    allowNonLoopbackWebhook: false,
    webhookTimeoutMs: 2000,
  },
  worker: {},
};

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace. */
export function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeDeep(base[k], v);
  return out;
}

export function zodIssues(error: z.ZodError, file?: string): InputIssue[] {
  const where = file ? { file } : {};
  return error.issues.flatMap((i) => {
    const path = i.path.map(String);
    // An unknown key is reported at its own path, so the user sees which setting is wrong.
    if (i.code === "unrecognized_keys")
      return i.keys.map((k) => ({
        ...where,
        path: [...path, k].join("."),
        message: "unknown setting",
        hint: "remove it or fix its spelling",
      }));
    return [{ ...where, path: path.join("."), message: i.message }];
  });
}

/** Validates a partial config (file and flags already merged) over the defaults. */
export function resolveConfig(partial: unknown, file?: string): ServiceConfig {
  const merged = mergeDeep(DEFAULT_CONFIG, partial ?? {});
  const result = serviceConfigSchema.safeParse(merged);
  if (!result.success)
    throw new InvalidInputError(
      zodIssues(result.error, file),
      "see reference-service/config.ts for every field",
    );
  const { host, adminToken, allowNonLoopback } = result.data;
  if (!isLoopbackHost(host) && adminToken === null && !allowNonLoopback)
    throw new InvalidInputError([
      {
        ...(file ? { file } : {}),
        path: "host",
        message: `refusing to listen on non-loopback host "${host}" without adminToken: it would expose the model API, /metrics and /v1/reliability to the network`,
        hint: `use host 127.0.0.1, or set adminToken (env ${ADMIN_TOKEN_ENV}), or set allowNonLoopback: true (--allow-non-loopback) to expose it without one`,
      },
    ]);
  const webhook = webhookIssue(result.data.alerts) ?? thresholdOrderIssue(result.data.alerts);
  if (webhook) throw new InvalidInputError([{ ...(file ? { file } : {}), ...webhook }]);
  return result.data;
}

/** A warning must come before its critical alert, or the warning would never be seen alone. */
function thresholdOrderIssue(a: ServiceConfig["alerts"]): InputIssue | null {
  for (const what of ["cpu", "memory"] as const) {
    const warning = a[`${what}WarningAbove`];
    const critical = a[`${what}CriticalAbove`];
    if (warning >= critical)
      return {
        path: `alerts.${what}WarningAbove`,
        message: `the warning threshold (${warning}) must be below the critical one (alerts.${what}CriticalAbove: ${critical})`,
        hint: "e.g. 0.8 and 0.95 (write-up 002's 80% and 95%)",
      };
  }
  return null;
}

/** The webhook must be http(s), and loopback unless explicitly allowed (alert text leaves the host). */
function webhookIssue(a: ServiceConfig["alerts"]): InputIssue | null {
  if (a.webhookUrl === null) return null;
  const path = "alerts.webhookUrl";
  let url: URL;
  try {
    url = new URL(a.webhookUrl);
  } catch {
    return {
      path,
      message: `not a URL: ${JSON.stringify(a.webhookUrl)}`,
      hint: "e.g. http://127.0.0.1:9093/alerts",
    };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return {
      path,
      message: `expected an http:// or https:// URL, found ${url.protocol}`,
      hint: "e.g. http://127.0.0.1:9093/alerts",
    };
  if (!isLoopbackHost(url.hostname) && !a.allowNonLoopbackWebhook)
    return {
      path,
      message: `refusing to send alerts to non-loopback host "${url.hostname}": alert text would leave this machine`,
      hint: "use a loopback receiver (127.0.0.1), or set alerts.allowNonLoopbackWebhook: true",
    };
  return null;
}

/** Loopback by name or address; anything else (0.0.0.0, ::, a LAN address, a host name) is exposed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new InvalidInputError([{ file: path, path: "", message: `cannot read: ${(e as Error).message}` }]);
  }
  try {
    return (path.endsWith(".json") ? JSON.parse(text) : parseYaml(text)) as Json;
  } catch (e) {
    throw new InvalidInputError([
      { file: path, path: "", message: `not valid JSON/YAML: ${(e as Error).message}` },
    ]);
  }
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--breaker.failure-threshold` -> ["breaker","failureThreshold"], for every scalar leaf. */
export function configFlagTable(): Map<string, { path: string[]; example: unknown }> {
  const table = new Map<string, { path: string[]; example: unknown }>();
  const walk = (obj: Record<string, unknown>, prefix: string[]): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === "worker") continue;
      if (isPlainObject(v)) walk(v, [...prefix, k]);
      else table.set(`--${[...prefix, k].map(kebab).join(".")}`, { path: [...prefix, k], example: v });
    }
  };
  walk(DEFAULT_CONFIG, []);
  return table;
}

function coerceFlag(raw: string, example: unknown): unknown {
  // A list (a recovery ladder's steps) is given comma-separated: clear_gpu_cache,fallback_to_mock.
  if (Array.isArray(example))
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (typeof example === "number") return raw.trim() === "" ? raw : Number(raw);
  if (typeof example === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  if (example === null) return raw === "null" ? null : raw;
  return raw;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

export interface ParsedArgs {
  readonly configFile?: string;
  readonly overrides: Record<string, unknown>;
}

/**
 * A boolean flag with no value (`--allow-non-loopback` last or before another flag) means
 * true: its config path, else null (the next argument is the flag's value).
 */
function bareBooleanPath(
  table: ReturnType<typeof configFlagTable>,
  flag: string,
  next: string | undefined,
): string[] | null {
  const entry = table.get(flag);
  if (typeof entry?.example !== "boolean") return null;
  return next === undefined || next.startsWith("--") ? entry.path : null;
}

/** Parses `--flag value` / `--flag=value` pairs; unknown flags are reported with the known ones. */
export function parseConfigArgs(argv: readonly string[]): ParsedArgs {
  const table = configFlagTable();
  const overrides: Record<string, unknown> = {};
  const issues: InputIssue[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const bare = eq < 0 ? bareBooleanPath(table, flag, argv[i + 1]) : null;
    if (bare) {
      setPath(overrides, bare, true);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      issues.push({ path: flag, message: "needs a value" });
      continue;
    }
    if (flag === "--config") {
      configFile = value;
      continue;
    }
    const entry = table.get(flag);
    if (!entry) {
      issues.push({
        path: flag,
        message: "unknown flag",
        hint: `one of --config, ${[...table.keys()].join(", ")}`,
      });
      continue;
    }
    setPath(overrides, entry.path, coerceFlag(value, entry.example));
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return configFile === undefined ? { overrides } : { configFile, overrides };
}

/** Defaults <- FAULTLINE_ADMIN_TOKEN <- config file <- flags, validated. */
export async function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ServiceConfig> {
  const args = parseConfigArgs(argv);
  const fromFile = args.configFile ? await readConfigFile(args.configFile) : {};
  if (args.configFile && !isPlainObject(fromFile))
    throw new InvalidInputError([
      { file: args.configFile, path: "", message: "must be a mapping of settings" },
    ]);
  // The env token sits under the file and flags, so an explicit setting wins.
  const token = env[ADMIN_TOKEN_ENV];
  const fromEnv = token ? { adminToken: token } : {};
  return resolveConfig(mergeDeep(mergeDeep(fromEnv, fromFile), args.overrides), args.configFile);
}
