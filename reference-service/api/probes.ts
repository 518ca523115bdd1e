/** Probe answers: every one is JSON with a status and a reason, and counted in metrics. */
import type { ServerResponse } from "node:http";
import type { ApiContext } from "./context.js";
import { retryAfterHeaders } from "./errors.js";
import { currentServiceLevel, evaluateReadiness, type HealthHistory, type Readiness } from "./health.js";

export function readiness(ctx: ApiContext, draining: boolean): Readiness {
  return evaluateReadiness({
    draining,
    worker: ctx.workerStatus(),
    heartbeatStaleMs: ctx.config.health.heartbeatStaleMs,
    inFlight: ctx.pipeline.progress.inFlight,
    stalledForMs: ctx.pipeline.progress.stalledForMs(),
    progressStallMs: ctx.config.health.progressStallMs,
    breaker: ctx.breaker.state,
    hasFallback: ctx.fallbackLevels.length > 0,
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

export function liveBody(ctx: ApiContext, res: ServerResponse, draining: boolean): void {
  ctx.metrics.healthChecks.inc({ probe: "live", result: "ok" });
  send(res, 200, {
    status: "alive",
    reason: draining ? "process up, draining" : "process up",
    pid: process.pid,
  });
}

export function readyBody(
  ctx: ApiContext,
  res: ServerResponse,
  draining: boolean,
  history: HealthHistory,
): void {
  const r = readiness(ctx, draining);
  history.observe(r);
  ctx.metrics.healthChecks.inc({ probe: "ready", result: r.ready ? "ok" : r.status });
  const headers = r.ready ? {} : retryAfterHeaders(ctx.retryAfterMs());
  send(
    res,
    r.ready ? 200 : 503,
    { status: r.status, ready: r.ready, reason: r.reason, since: history.since },
    headers,
  );
}

export function healthBody(
  ctx: ApiContext,
  res: ServerResponse,
  draining: boolean,
  history: HealthHistory,
  inflight: number,
): void {
  const r = readiness(ctx, draining);
  history.observe(r);
  ctx.metrics.healthChecks.inc({ probe: "health", result: r.ready ? "ok" : r.status });
  const w = ctx.workerStatus();
  const hb = w?.heartbeat ?? null;
  const body = {
    status: r.status,
    ready: r.ready,
    reason: r.reason,
    since: history.since,
    serviceLevel: currentServiceLevel(r, ctx.fallbackLevels),
    draining,
    worker: w && {
      pid: w.pid,
      state: w.state,
      restarts: w.restarts,
      restartsInWindow: w.restartsInWindow,
      lastRestartCause: w.lastRestartCause,
      lastHeartbeatMs: w.lastHeartbeatMs,
      phase: hb?.phase ?? null,
      reason: w.reason,
    },
    breakers: { [ctx.breaker.backend]: ctx.breaker.state },
    vram: hb && {
      usedBytes: hb.vram.usedBytes,
      totalBytes: hb.vram.totalBytes,
      cotenantBytes: hb.vram.cotenantBytes,
    },
    models: ctx.modelStates(),
    queue: { running: ctx.admission.running, waiting: ctx.admission.queued, inflight },
    watchdog: {
      inFlight: ctx.pipeline.progress.inFlight,
      stalledForMs: ctx.pipeline.progress.stalledForMs(),
    },
    fallbackLevels: ctx.fallbackLevels,
    history: history.list(),
  };
  const headers = r.ready ? {} : retryAfterHeaders(ctx.retryAfterMs());
  send(res, r.ready ? 200 : 503, body, headers);
}
