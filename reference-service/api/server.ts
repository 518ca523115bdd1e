/**
 * The HTTP front on node:http: a route table, one error path (errors.ts), per-request metrics,
 * and the drain switch. Probes answer JSON with a reason; generation goes through admission
 * control and the policy pipeline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import type { RequestKind } from "../backend.js";
import { ROUTES } from "../contract.js";
import { recordGeneration, type RequestOutcome } from "../metrics/registry.js";
import type { ApiContext } from "./context.js";
import { ApiError, invalidRequest, toErrorResponse } from "./errors.js";
import { StreamFailedError, clientGone, handleGeneration, type GenerationResult } from "./generate.js";
import { HealthHistory } from "./health.js";
import { healthBody, liveBody, readiness, readyBody } from "./probes.js";
import { requireAdmin } from "./admin-auth.js";
import { readOptionalJson } from "./body.js";
import { alertsBody, reliabilityBody, resetBreakers, resetRecovery, triggerRecovery } from "./reliability.js";

type Handler = (
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
) => Promise<GenerationResult | void>;

interface Route {
  readonly method: "GET" | "POST";
  readonly pattern: RegExp;
  readonly label: string;
  readonly handler: Handler;
  /** Refused while draining (work); probes and metrics keep answering. */
  readonly work: boolean;
  /** Changes the service's state: needs the admin token (admin-auth.ts). */
  readonly admin?: boolean;
}

const gen =
  (kind: RequestKind): Handler =>
  (ctx, req, res) =>
    handleGeneration(ctx, kind, req, res);

export interface ApiServer {
  readonly server: Server;
  readonly history: HealthHistory;
  /** Requests being handled right now (any route). */
  inflight(): number;
  /** Flip readiness to 503 and refuse new work with 503 + Retry-After + Connection: close. */
  beginDrain(): void;
  readonly draining: boolean;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function routes(api: () => ApiServer): Route[] {
  const get = (pattern: RegExp, label: string, handler: Handler): Route => ({
    method: "GET",
    pattern,
    label,
    handler,
    work: false,
  });
  const post = (path: string, kind: RequestKind): Route => ({
    method: "POST",
    pattern: new RegExp(`^${path}$`),
    label: path,
    handler: gen(kind),
    work: true,
  });
  const live: Handler = (ctx, _req, res) => Promise.resolve(liveBody(ctx, res, api().draining));
  const ready: Handler = (ctx, _req, res) =>
    Promise.resolve(readyBody(ctx, res, api().draining, api().history));
  const health: Handler = (ctx, _req, res) =>
    Promise.resolve(healthBody(ctx, res, api().draining, api().history, api().inflight()));
  return [
    post(ROUTES.chat, "chat"),
    post(ROUTES.completions, "completion"),
    post(ROUTES.embeddings, "embedding"),
    get(/^\/v1\/models$/, ROUTES.models, (ctx, _req, res) => Promise.resolve(listModels(ctx, res))),
    get(/^\/v1\/models\/(.+)$/, `${ROUTES.models}/{id}`, (ctx, _req, res, m) =>
      Promise.resolve(oneModel(ctx, res, pathParam(m))),
    ),
    modelAction("load"),
    modelAction("verify"),
    get(/^\/(health\/live|live|v2\/health\/live)$/, ROUTES.live, live),
    get(/^\/(health\/ready|ready|v2\/health\/ready)$/, ROUTES.ready, ready),
    get(/^\/(health|ping)$/, ROUTES.health, health),
    get(/^\/v2\/models\/([^/]+)\/ready$/, "/v2/models/{m}/ready", (ctx, _req, res, m) =>
      Promise.resolve(modelReady(ctx, res, pathParam(m), api().draining)),
    ),
    {
      method: "POST",
      pattern: /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/,
      label: "/v2/repository/models/{m}/{op}",
      handler: (ctx, _req, res, m) => modelOp(ctx, res, pathParam(m), m[2] === "load" ? "load" : "unload"),
      work: true,
      admin: true,
    },
    get(/^\/v1\/reliability$/, ROUTES.reliability, (ctx, _req, res) =>
      Promise.resolve(reliabilityBody(ctx, res, api().draining, api().history)),
    ),
    get(/^\/v1\/reliability\/alerts$/, ROUTES.alerts, (ctx, _req, res) =>
      Promise.resolve(alertsBody(ctx, res)),
    ),
    ...reliabilityAdminRoutes(),
    {
      method: "POST",
      pattern: /^\/v2\/repository\/index$/,
      label: "/v2/repository/index",
      handler: (ctx, _req, res) => Promise.resolve(repositoryIndex(ctx, res)),
      work: false,
    },
    get(/^\/metrics$/, ROUTES.metrics, async (ctx, _req, res) => {
      const text = await ctx.metrics.registry.metrics();
      res.writeHead(200, { "content-type": ctx.metrics.registry.contentType });
      res.end(text);
    }),
  ];
}

/** The operator's reliability actions (002's recovery API, 001's breaker reset): admin token. */
function reliabilityAdminRoutes(): Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/reliability\/breakers\/(?:([^/]+)\/)?reset$/,
      label: ROUTES.breakersReset,
      handler: (ctx, _req, res, m) =>
        Promise.resolve(resetBreakers(ctx, res, m[1] === undefined ? null : pathParam(m))),
      work: false,
      admin: true,
    },
    {
      method: "POST",
      pattern: /^\/v1\/reliability\/recovery\/trigger$/,
      label: ROUTES.recoveryTrigger,
      handler: (ctx, req, res) => triggerRecovery(ctx, req, res),
      // A probe generation: it holds a worker slot like any request, so drain waits for it.
      work: true,
      admin: true,
    },
    {
      method: "POST",
      pattern: /^\/v1\/reliability\/recovery\/reset$/,
      label: ROUTES.recoveryReset,
      handler: (ctx, _req, res) => Promise.resolve(resetRecovery(ctx, res)),
      work: false,
      admin: true,
    },
  ];
}

/**
 * POST /v1/models/{id}/load and /verify (write-up 004's load and verification operations),
 * through the worker like Triton's load above; one route each so /metrics counts them apart.
 */
function modelAction(op: "load" | "verify"): Route {
  return {
    method: "POST",
    pattern: new RegExp(`^${ROUTES.models}/([^/]+)/${op}$`),
    label: `${ROUTES.models}/{id}/${op}`,
    handler: async (ctx, req, res, m) => {
      const id = pathParam(m);
      const keepAliveMs = await modelActionBody(req, ctx.config.bodyLimitBytes, op);
      await modelOp(ctx, res, id, op, keepAliveMs);
    },
    work: true,
    admin: true,
  };
}

/**
 * The optional JSON body of a model action: `{"keep_alive_ms": n}` for a load (Ollama's
 * keep_alive in ms: 0 = unload when idle, < 0 = pin); nothing else is accepted, so a typo is a
 * 400 instead of being ignored. An empty body means the defaults.
 */
async function modelActionBody(
  req: IncomingMessage,
  limit: number,
  op: "load" | "verify",
): Promise<number | undefined> {
  const body = await readOptionalJson(req, limit);
  if (body === undefined) return undefined;
  const parsed = MODEL_ACTION_BODY[op].safeParse(body);
  if (!parsed.success)
    throw invalidRequest(
      op === "load"
        ? `the body of a load is {"keep_alive_ms": <integer ms>} or empty: ${parsed.error.issues[0]?.message ?? "invalid"}`
        : `a verify takes no body fields (send {} or nothing): ${parsed.error.issues[0]?.message ?? "invalid"}`,
    );
  return "keep_alive_ms" in parsed.data ? parsed.data.keep_alive_ms : undefined;
}

const MODEL_ACTION_BODY = {
  load: z.strictObject({ keep_alive_ms: z.number().int().optional() }),
  verify: z.strictObject({}),
} as const;

/**
 * The one decode of a path parameter: bad percent-encoding (`%zz`, a cut UTF-8 sequence) is the
 * client's mistake, a 400, never an uncaught URIError.
 */
function pathParam(m: RegExpExecArray, index = 1): string {
  const raw = m[index] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidRequest(
      `the path segment '${raw}' is not valid percent-encoding (UTF-8 bytes as %XX); encode it with encodeURIComponent`,
    );
  }
}

function modelObject(ctx: ApiContext, id: string) {
  const state = ctx.modelStates().find((m) => m.name === id);
  return { id, object: "model", created: 0, owned_by: "faultline", status: state?.state ?? "unknown" };
}

function listModels(ctx: ApiContext, res: ServerResponse): void {
  sendJson(res, 200, { object: "list", data: ctx.models.map((m) => modelObject(ctx, m.id)) });
}

function oneModel(ctx: ApiContext, res: ServerResponse, id: string): void {
  if (!ctx.models.some((m) => m.id === id))
    throw new ApiError(
      404,
      "invalid_request_error",
      "model_not_found",
      `The model '${id}' does not exist`,
      "model",
    );
  sendJson(res, 200, modelObject(ctx, id));
}

/** Explicit load/unload (Triton's repository extension) or verify, answered with the model's state. */
async function modelOp(
  ctx: ApiContext,
  res: ServerResponse,
  id: string,
  op: "load" | "unload" | "verify",
  keepAliveMs?: number,
): Promise<void> {
  if (!ctx.models.some((m) => m.id === id))
    throw new ApiError(
      404,
      "invalid_request_error",
      "model_not_found",
      `The model '${id}' does not exist`,
      "model",
    );
  if (!ctx.modelOps)
    throw new ApiError(501, "server_error", "not_supported", `no worker: ${op} is not available`);
  const ops = ctx.modelOps;
  const state = await (op === "load"
    ? ops.load(id, keepAliveMs)
    : op === "unload"
      ? ops.unload(id)
      : ops.verify(id));
  sendJson(res, 200, op === "verify" ? { name: id, verified: true, state } : { name: id, state });
}

/** Triton's repository index: every model with its state and, when failed, the reason. */
function repositoryIndex(ctx: ApiContext, res: ServerResponse): void {
  const states = ctx.modelStates();
  sendJson(
    res,
    200,
    ctx.models.map((m) => {
      const s = states.find((x) => x.name === m.id);
      return {
        name: m.id,
        version: "1",
        state: (s?.state ?? "unloaded").toUpperCase(),
        reason: s?.reason ?? "",
      };
    }),
  );
}

function modelReady(ctx: ApiContext, res: ServerResponse, id: string, draining: boolean): void {
  const state = ctx.modelStates().find((m) => m.name === id)?.state;
  const ok = !draining && readiness(ctx, draining).ready && state === "ready";
  sendJson(res, ok ? 200 : 503, { name: id, ready: ok, state: state ?? "unknown" });
}

function outcomeOf(status: number, result: GenerationResult | void, closed: boolean): RequestOutcome {
  if (closed) return "client_closed";
  if (status >= 200 && status < 300)
    return result?.served && result.served.level !== "full" ? "degraded" : "ok";
  if (status === 429 || status === 503) return "shed";
  return "error";
}

function recordRequest(
  ctx: ApiContext,
  label: string,
  status: number,
  startedMs: number,
  result: GenerationResult | void,
  closed: boolean,
): void {
  const outcome = outcomeOf(status, result, closed);
  ctx.metrics.requests.inc({ route: label, outcome, status: String(status) });
  ctx.metrics.latency.observe({ route: label, outcome }, (ctx.clock.monotonic() - startedMs) / 1000);
  // "ok" = a full-service answer, sent whole: what the engine itself produced.
  if (outcome === "ok" && result && result.kind !== "embedding" && result.model !== undefined)
    recordGeneration(ctx.metrics, { ...result, model: result.model, e2eMs: result.e2eMs ?? 0 });
}

/** Answers any failure: an HTTP error if nothing was sent yet (a stream failure was sent in-band). */
function answerError(ctx: ApiContext, res: ServerResponse, e: unknown, draining: boolean): void {
  if (e instanceof StreamFailedError || res.headersSent || res.destroyed) return;
  const { status, headers, body } = toErrorResponse(e, ctx.retryAfterMs());
  // 413: the unread rest of the body cannot be skipped safely; draining: tell the client to go.
  const close: Record<string, string> = status === 413 || draining ? { connection: "close" } : {};
  sendJson(res, status, body, { ...headers, ...close });
}

export function createApiServer(ctx: ApiContext): ApiServer {
  let active = 0;
  let draining = false;
  const history = new HealthHistory(ctx.clock, ctx.config.health.historySize);
  const api: ApiServer = {
    server: createServer((req, res) => void dispatch(req, res)),
    history,
    inflight: () => active,
    beginDrain() {
      draining = true;
      ctx.admission.beginDrain();
    },
    get draining() {
      return draining;
    },
  };
  const table = routes(() => api);

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedMs = ctx.clock.monotonic();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    // HEAD is GET without a body (node:http drops the body of a HEAD answer itself).
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = table.find((r) => r.pattern.test(path) && r.method === method);
    const label = route?.label ?? "other";
    active++;
    let result: GenerationResult | void = undefined;
    try {
      if (!route) throw notFound(table, path, req.method ?? "GET");
      if (route.admin) requireAdmin(ctx.config, req.headers);
      if (draining && route.work) ctx.admission.beginDrain();
      result = await route.handler(ctx, req, res, route.pattern.exec(path) as RegExpExecArray);
    } catch (e) {
      answerError(ctx, res, e, draining);
    } finally {
      active--;
      if (route?.work || !route)
        recordRequest(ctx, label, res.statusCode, startedMs, result, clientGone.has(res));
    }
  }
  api.server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    // Headers past node's limit are 431 (RFC 6585), anything else the parser refused is 400.
    const status =
      err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
  });
  return api;
}

function notFound(table: readonly Route[], path: string, method: string): ApiError {
  const allowed: string[] = [...new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  if (allowed.includes("GET")) allowed.push("HEAD");
  if (allowed.length > 0)
    return new ApiError(
      405,
      "invalid_request_error",
      "method_not_allowed",
      `${method} is not allowed on ${path}; use ${allowed.join(" or ")}`,
      null,
      undefined,
      { allow: allowed.join(", ") },
    );
  return new ApiError(404, "not_found_error", "route_not_found", `no route ${method} ${path}`);
}
