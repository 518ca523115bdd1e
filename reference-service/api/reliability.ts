/**
 * The reliability machinery as one JSON document (GET /v1/reliability) and the operator's
 * breaker reset (POST /v1/reliability/breakers/reset, or .../breakers/{name}/reset). Write-ups
 * 001 and 002 claim such an API; this one reports what the service is actually doing: each
 * breaker with its failure count and when it will let a probe through, the retry and timeout
 * settings, the worker and its restarts, admission, the fallback chain, the recovery ladders
 * (each step's outcomes, where the next run starts) and recent readiness.
 */
import type { ServerResponse } from "node:http";
import type { BackendBreaker, BreakerStateName } from "../policies/breaker.js";
import type { ApiContext } from "./context.js";
import { ApiError } from "./errors.js";
import { currentServiceLevel, type HealthHistory } from "./health.js";
import { readiness } from "./probes.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function send(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
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
