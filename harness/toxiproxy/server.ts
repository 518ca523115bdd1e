import { createServer } from "node:http";
import { systemClock, type Clock } from "../../common/clock.js";
import { formatHostPort } from "./address.js";
import { apiHandler } from "./api.js";
import { ProxyMetrics } from "./metrics.js";
import { ProxyCollection } from "./proxy-collection.js";

export interface ToxiproxyServerOptions {
  /** API host; loopback is expected (the command refuses others unless told). */
  readonly host: string;
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** Seeds every toxicity, jitter and slicer draw (each link gets its own derived stream). */
  readonly seed: number;
  readonly clock?: Clock;
  /** Let proxies listen on non-loopback addresses (off by default). */
  readonly allowNonLoopback?: boolean;
  /** Serve /metrics with per-link byte counters (the real server's -proxy-metrics); else /metrics is 404. */
  readonly proxyMetrics?: boolean;
  /** How long an API call may take before it answers 503 (the real server: 25 s). */
  readonly apiTimeoutMs?: number;
}

export interface ToxiproxyServer {
  /** Base URL of the API, e.g. http://127.0.0.1:8474. */
  readonly url: string;
  readonly port: number;
  readonly seed: number;
  /** Stops the API and every proxy, closing all their connections. */
  close(): Promise<void>;
}

/** Starts the embedded Toxiproxy-compatible server (the real one's HTTP API and toxics). */
export async function startToxiproxyServer(options: ToxiproxyServerOptions): Promise<ToxiproxyServer> {
  const metrics = options.proxyMetrics ? new ProxyMetrics() : undefined;
  const proxies = new ProxyCollection({
    clock: options.clock ?? systemClock,
    seed: options.seed,
    allowNonLoopback: options.allowNonLoopback ?? false,
    metrics,
  });
  const http = createServer(apiHandler(proxies, metrics, options.apiTimeoutMs));
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen({ host: options.host, port: options.port }, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address();
  const port = address && typeof address === "object" ? address.port : options.port;
  const url = `http://${formatHostPort(options.host, port)}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await proxies.closeAll();
      await stopped;
    })();
    return closing;
  };
  return { url, port, seed: options.seed, close };
}
