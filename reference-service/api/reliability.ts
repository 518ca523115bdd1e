/**
 * The reliability machinery as one JSON document (GET /v1/reliability) and the operator's
 * breaker reset (POST /v1/reliability/breakers/reset, or .../breakers/{name}/reset). Write-ups
 * 001 and 002 claim such an API; this one reports what the service is actually doing: each
 * breaker with its failure count and when it will let a probe through, the retry and timeout
 * settings, the worker and its restarts, admission, the fallback chain, the recovery ladders
 * (each step's outcomes, where the next run starts) and recent readiness.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BackendBreaker, BreakerStateName } from "../policies/breaker.js";
import { LADDER_NAMES, LadderExhaustedError, type LadderName } from "../policies/recovery-ladder.js";
import { readJson } from "./body.js";
import type { ApiContext } from "./context.js";
import { ApiError, invalidRequest } from "./errors.js";
import { currentServiceLevel, type HealthHistory } from "./health.js";
import { readiness } from "./probes.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function send(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Every breaker of the service (one per backend; today the primary's). */
function breakersOf(ctx: ApiContext): readonly BackendBreaker[] {
  return [ctx.breaker];
}

function breakerStatus(ctx: ApiContext, b: BackendBreaker) {
  return {
    name: b.backend,
    state: b.state,
    consecutiveFailures: b.consecutiveFailures,
    ...ctx.config.breaker,
    openedAt: iso(b.lastOpenedAt),
    halfOpenAt: iso(b.halfOpenAt()),
    msUntilHalfOpen: b.msUntilHalfOpen(),
  };
}

function recoveryStatus(ctx: ApiContext) {
  const r = ctx.config.recovery;
  const settings = {
    enabled: r.enabled,
    cooldownMs: r.cooldownMs,
    optimizedContextTokens: r.optimizedContextTokens,
    reducedMaxTokens: r.reducedMaxTokens,
    pipelineWaitMs: r.pipelineWaitMs,
    systemResources: r.systemResources,
  };
  const ladders = ctx.pipeline.ladders;
  if (!ladders) return { ...settings, ladders: [] };
  return {
    ...settings,
    ladders: ladders.status().map((l) => ({
      ...l,
      lastRunAt: iso(l.lastRunAtMs),
      cooldownUntil: iso(l.cooldownUntilMs),
    })),
  };
}

function workerStatus(ctx: ApiContext) {
  const w = ctx.workerStatus();
  if (!w) return null;
  const s = ctx.config.supervisor;
  return {
    pid: w.pid,
    state: w.state,
    reason: w.reason,
    restarts: w.restarts,
    restartsInWindow: w.restartsInWindow,
    lastRestartCause: w.lastRestartCause,
    lastHeartbeatMs: w.lastHeartbeatMs,
    restartBudget: { restarts: s.budgetRestarts, windowMs: s.budgetWindowMs },
    backoff: {
      initialMs: s.backoffInitialMs,
      maxMs: s.backoffMaxMs,
      multiplier: s.backoffMultiplier,
      firstRestartImmediate: s.firstRestartImmediate,
      cooldownMs: s.cooldownMs,
    },
    hungAfterMs: s.hungAfterMs,
  };
}

export function reliabilityBody(
  ctx: ApiContext,
  res: ServerResponse,
  draining: boolean,
  history: HealthHistory,
): void {
  const r = readiness(ctx, draining);
  const a = ctx.config.admission;
  send(res, {
    object: "reliability.status",
    time: new Date(ctx.clock.now()).toISOString(),
    status: r.status,
    ready: r.ready,
    reason: r.reason,
    serviceLevel: currentServiceLevel(r, ctx.fallbackLevels),
    breakers: breakersOf(ctx).map((b) => breakerStatus(ctx, b)),
    retry: { ...ctx.config.retry, requestTimeoutMs: ctx.config.requestTimeoutMs },
    worker: workerStatus(ctx),
    admission: {
      draining,
      running: ctx.admission.running,
      queued: ctx.admission.queued,
      maxConcurrent: a.maxConcurrent,
      maxQueue: a.maxQueue,
      queueTimeoutMs: a.queueTimeoutMs,
      estimatedWaitMs: ctx.admission.estimateWaitMs(),
    },
    fallback: { chain: ctx.fallbackChain },
    recovery: recoveryStatus(ctx),
    health: { since: history.since, history: history.list() },
  });
}

/** Closes the named breaker, or every breaker when `name` is null; 404 for an unknown name. */
export function resetBreakers(ctx: ApiContext, res: ServerResponse, name: string | null): void {
  const all = breakersOf(ctx);
  const chosen = name === null ? all : all.filter((b) => b.backend === name);
  if (chosen.length === 0)
    throw new ApiError(
      404,
      "invalid_request_error",
      "breaker_not_found",
      `no breaker named '${name}'; known: ${all.map((b) => b.backend).join(", ")}`,
    );
  const reset = chosen.map((b) => {
    const was: BreakerStateName = b.reset();
    return { name: b.backend, was, state: b.state };
  });
  send(res, { object: "reliability.breakers.reset", breakers: reset });
}

/**
 * GET /v1/reliability/alerts: the rules, the pending and firing alerts in the shape of
 * Prometheus's /api/v1/alerts items, the recently resolved ones in the Alertmanager webhook
 * shape, and the health checks the success-rate rules judge.
 */
export function alertsBody(ctx: ApiContext, res: ServerResponse): void {
  const engine = ctx.alerts.engine;
  const h = engine.health;
  send(res, {
    object: "reliability.alerts",
    time: new Date(ctx.clock.now()).toISOString(),
    evaluateIntervalMs: ctx.config.alerts.evaluateIntervalMs,
    webhook: ctx.config.alerts.webhookUrl === null ? null : { configured: true },
    rules: engine.ruleList(),
    alerts: engine.alerts().map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      state: a.state,
      activeAt: iso(a.activeAtMs),
      firedAt: iso(a.firedAtMs),
    })),
    resolved: engine.resolved().map((n) => ({
      status: n.status,
      labels: n.labels,
      annotations: n.annotations,
      startsAt: iso(n.startsAtMs),
      endsAt: iso(n.endsAtMs),
    })),
    healthChecks: { window: h.size, checks: h.count, passed: h.successes, successRate: h.rate },
  });
}

/** What POST /v1/reliability/recovery/trigger accepts, checked field by field. */
function triggerInput(ctx: ApiContext, body: unknown): { ladder: LadderName; model: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalidRequest('send a JSON object such as {"failure_type": "pipeline_error"}');
  const b = body as Record<string, unknown>;
  const known = LADDER_NAMES.join(", ");
  const type = b.failure_type;
  if (typeof type !== "string" || !(LADDER_NAMES as readonly string[]).includes(type))
    throw invalidRequest(
      `failure_type must be one of ${known}; got ${type === undefined ? "nothing" : JSON.stringify(type)}`,
      "failure_type",
    );
  const generators = ctx.models.filter((m) => m.task !== "embed").map((m) => m.id);
  const model = b.model ?? generators[0];
  if (typeof model !== "string" || !generators.includes(model))
    throw invalidRequest(
      `model must name a generation model of this service (${generators.join(", ")}); got ${JSON.stringify(model)}`,
      "model",
    );
  const extra = Object.keys(b).filter((k) => k !== "failure_type" && k !== "model");
  if (extra.length > 0)
    throw invalidRequest(
      `unknown field ${extra.map((k) => `'${k}'`).join(", ")}; send failure_type and, optionally, model`,
    );
  return { ladder: type as LadderName, model };
}

/**
 * POST /v1/reliability/recovery/trigger (admin): runs the ladder of `failure_type` now for a
 * one-token probe of `model` whose answer is discarded, and answers which step recovered and
 * at which level; 503 with `recovered: false` and the last failure when no step answered, 409
 * when the ladders are off.
 */
export async function triggerRecovery(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { ladder, model } = triggerInput(ctx, await readJson(req, ctx.config.bodyLimitBytes));
  const ladders = ctx.pipeline.ladders;
  if (!ladders)
    throw new ApiError(
      409,
      "invalid_request_error",
      "recovery_disabled",
      "the recovery ladders are off; start the service with recovery.enabled: true",
    );
  const aborted = new AbortController();
  res.once("close", () => {
    if (!res.writableEnded) aborted.abort();
  });
  const probe = {
    id: `recovery-trigger-${ctx.clock.now()}`,
    kind: "chat" as const,
    model,
    prompt: "recovery probe",
    maxTokens: 1,
    stream: false,
    deadlineAtMs: ctx.clock.now() + ctx.config.requestTimeoutMs,
  };
  const outcome = (recovered: boolean, extra: Record<string, unknown>) =>
    send(
      res,
      {
        object: "reliability.recovery.trigger",
        failure_type: ladder,
        model,
        recovered,
        ...extra,
        ladder: ladders.status().find((l) => l.name === ladder),
      },
      recovered ? 200 : 503,
    );
  try {
    const run = await ctx.pipeline.triggerRecovery(ladder, probe, aborted.signal);
    if (run === null) throw new Error("the recovery ladders went away during the trigger");
    outcome(true, { step: run.step, level: run.served.level, backend: run.served.backend });
  } catch (e) {
    if (!(e instanceof LadderExhaustedError)) throw e;
    outcome(false, { step: null, level: null, backend: null, error: e.message });
  }
}

/**
 * POST /v1/reliability/recovery/reset (admin), 002's "reset recovery state and re-enable real
 * generation": ends every ladder's cooldown and closes every breaker.
 */
export function resetRecovery(ctx: ApiContext, res: ServerResponse): void {
  const cooldownsEnded = ctx.pipeline.ladders?.reset() ?? [];
  const breakers = breakersOf(ctx).map((b) => {
    const was: BreakerStateName = b.reset();
    return { name: b.backend, was, state: b.state };
  });
  send(res, { object: "reliability.recovery.reset", cooldownsEnded, breakers });
}
