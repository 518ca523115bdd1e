import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { toApiError } from "./errors.js";
import type { ProxyMetrics } from "./metrics.js";
import type { ProxyCollection } from "./proxy-collection.js";

/**
 * Go's http.TimeoutHandler around every route: a change that cannot finish (a toxic that
 * cannot be interrupted because the peer stopped reading) answers 503 after 25 s with Go's
 * default timeout page, while the change itself goes on, as in the real server.
 */
const HANDLER_TIMEOUT_MS = 25_000;
const TIMEOUT_REPLY: Reply = {
  status: 503,
  body: "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>",
  contentType: "text/html; charset=utf-8",
};

/** The version this server's API matches; /version answers it as the real server words it. */
export const TOXIPROXY_VERSION = "2.12.0";

interface Reply {
  readonly status: number;
  readonly body?: string;
  readonly contentType?: string;
}

interface Request {
  readonly params: readonly string[];
  readonly body: string;
}

type Handler = (collection: ProxyCollection, request: Request) => Promise<Reply> | Reply;

interface Route {
  /** Path segments; ":" marks a parameter (one non-empty segment). */
  readonly path: readonly string[];
  readonly methods: Readonly<Record<string, Handler>>;
}

/** Go's json.Marshal escapes these for HTML safety; so do we, for byte-equal bodies. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const json = (status: number, value: unknown): Reply => ({
  status,
  body: goJson(value),
  contentType: "application/json",
});
const noContent: Reply = { status: 204 };

const routes: readonly Route[] = [
  { path: ["reset"], methods: { POST: async (c) => (await c.reset(), noContent) } },
  {
    path: ["proxies"],
    methods: {
      GET: (c) => json(200, c.list()),
      POST: async (c, r) => json(201, await c.create(r.body)),
    },
  },
  {
    path: ["populate"],
    methods: {
      POST: async (c, r) => {
        const result = await c.populate(r.body);
        return json(result.status, result.body);
      },
    },
  },
  {
    path: ["proxies", ":"],
    methods: {
      GET: (c, r) => json(200, c.get(param(r, 0)).json()),
      POST: async (c, r) => json(200, await c.update(param(r, 0), r.body)),
      PATCH: async (c, r) => json(200, await c.update(param(r, 0), r.body)),
      DELETE: async (c, r) => (await c.remove(param(r, 0)), noContent),
    },
  },
  {
    path: ["proxies", ":", "toxics"],
    methods: {
      GET: (c, r) => json(200, c.get(param(r, 0)).toxics.list()),
      POST: async (c, r) => json(200, await c.get(param(r, 0)).toxics.add(r.body)),
    },
  },
  {
    path: ["proxies", ":", "toxics", ":"],
    methods: {
      GET: (c, r) => json(200, c.get(param(r, 0)).toxics.get(param(r, 1))),
      POST: async (c, r) => json(200, await c.get(param(r, 0)).toxics.update(param(r, 1), r.body)),
      PATCH: async (c, r) => json(200, await c.get(param(r, 0)).toxics.update(param(r, 1), r.body)),
      DELETE: async (c, r) => (await c.get(param(r, 0)).toxics.remove(param(r, 1)), noContent),
    },
  },
  {
    path: ["version"],
    methods: {
      GET: () => ({
        status: 200,
        body: `{"version": "${TOXIPROXY_VERSION}"}\n`,
        contentType: "application/json;charset=utf-8",
      }),
    },
  },
];

/** /metrics answers any method, and exists only when metrics are on (else the path is 404). */
function metricsRoute(metrics: ProxyMetrics): Route {
  return {
    path: ["metrics"],
    methods: {
      "*": async () => ({ status: 200, body: await metrics.text(), contentType: metrics.contentType }),
    },
  };
}

function param(request: Request, index: number): string {
  return request.params[index];
}

function match(route: Route, segments: readonly string[]): string[] | undefined {
  if (route.path.length !== segments.length) return undefined;
  const params: string[] = [];
  for (const [i, part] of route.path.entries()) {
    const segment = segments[i];
    if (part === ":") {
      if (segment === "") return undefined;
      params.push(segment);
    } else if (part !== segment) return undefined;
  }
  return params;
}

function pathSegments(url: string): string[] | undefined {
  const path = url.split("?")[0] ?? "";
  if (!path.startsWith("/")) return undefined;
  try {
    return path.slice(1).split("/").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function allowedMethods(route: Route): string[] {
  const methods = Object.keys(route.methods);
  return methods.includes("GET") ? [...methods, "HEAD"] : methods;
}

/** A request id in the shape of the real server's (a 20-character xid). */
function requestId(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuv";
  return [...randomBytes(20)].map((b) => alphabet[b & 31]).join("");
}

function send(response: ServerResponse, reply: Reply): void {
  // The handler timeout may have answered already.
  if (response.headersSent) return;
  if (reply.contentType) response.setHeader("Content-Type", reply.contentType);
  response.statusCode = reply.status;
  response.end(reply.body ?? "");
}

/** Go's http.Error: text/plain, nosniff, body plus a newline. */
function plainError(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) return;
  response.setHeader("X-Content-Type-Options", "nosniff");
  send(response, { status, body: `${text}\n`, contentType: "text/plain; charset=utf-8" });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

/**
 * The HTTP handler: routing as gorilla/mux does it (unknown path 404 with Go's text, known
 * path with another verb 405 and no body), then on matched routes the request-id header and
 * the 403 for browsers, then the route. Every error goes through toApiError.
 */
export function apiHandler(
  collection: ProxyCollection,
  metrics?: ProxyMetrics,
  timeoutMs = HANDLER_TIMEOUT_MS,
): (req: IncomingMessage, res: ServerResponse) => void {
  const table = metrics ? [...routes, metricsRoute(metrics)] : routes;
  return (request, response) => {
    const timer = setTimeout(() => send(response, TIMEOUT_REPLY), timeoutMs);
    void handle(table, collection, request, response)
      .catch((error: unknown) => {
        const api = toApiError(error);
        if (!response.headersSent)
          plainError(response, api.status, goJson({ error: api.message, status: api.status }));
      })
      .finally(() => clearTimeout(timer));
  };
}

async function handle(
  table: readonly Route[],
  collection: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const segments = pathSegments(request.url ?? "");
  const matched =
    segments && table.map((route) => ({ route, params: match(route, segments) })).find((m) => m.params);
  if (!matched?.params) {
    request.resume();
    plainError(response, 404, "404 page not found");
    return;
  }
  // HEAD is answered as GET (node:http sends no body for it); real 2.12 answers HEAD 405.
  const method = request.method === "HEAD" ? "GET" : (request.method ?? "");
  const handler = matched.route.methods[method] ?? matched.route.methods["*"];
  if (!handler) {
    request.resume();
    // Real 2.12 sends no Allow; RFC 9110 requires it, and it costs a client nothing.
    response.setHeader("Allow", allowedMethods(matched.route).join(", "));
    send(response, { status: 405 });
    return;
  }
  response.setHeader("X-Toxiproxy-Request-Id", requestId());
  if ((request.headers["user-agent"] ?? "").startsWith("Mozilla/")) {
    request.resume();
    plainError(response, 403, "User agent not allowed");
    return;
  }
  const body = await readBody(request);
  send(response, await handler(collection, { params: matched.params, body }));
}
