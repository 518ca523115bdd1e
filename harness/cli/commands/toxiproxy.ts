import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Runtime } from "../../../common/runtime.js";
import { InvalidInputError, type InputIssue } from "../../../common/errors.js";
import { isLoopbackHost } from "../../toxiproxy/address.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../toxiproxy/server.js";

export interface ToxiproxyCommandOptions {
  readonly host: string;
  readonly port: number;
  /** Seed for toxicity and jitter draws; the current time when not given (printed at start). */
  readonly seed?: number;
  readonly allowNonLoopback?: boolean;
  /** Serve /metrics with per-link byte counters (toxiproxy-server -proxy-metrics). */
  readonly proxyMetrics?: boolean;
  /** A JSON file holding a populate array, applied at start (toxiproxy-server -config). */
  readonly config?: string;
}

function checkOptions(options: ToxiproxyCommandOptions): InputIssue[] {
  const issues: InputIssue[] = [];
  const { host, port, seed } = options;
  const loopback = host === "localhost" || isLoopbackHost(host);
  if (!loopback && !options.allowNonLoopback) {
    issues.push({
      path: "--host",
      message: `refusing to serve the Toxiproxy API on non-loopback host "${host}"`,
      hint: "use --host 127.0.0.1, or add --allow-non-loopback if you really mean to expose it",
    });
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    issues.push({
      path: "--port",
      message: `port must be an integer 0-65535, got ${String(port)}`,
      hint: "e.g. --port 8474",
    });
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    issues.push({
      path: "--seed",
      message: `seed must be an integer, got ${String(seed)}`,
      hint: "e.g. --seed 42",
    });
  }
  return issues;
}

/**
 * `faultline toxiproxy`: a drop-in for toxiproxy-server. Prints one JSON line with the API
 * URL on stdout (a machine can read the port when --port 0), a human line on stderr, serves
 * until SIGINT or SIGTERM, then closes every proxy and returns 0.
 */
function apiListenError(error: unknown, options: ToxiproxyCommandOptions): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE" && code !== "EADDRNOTAVAIL") return error;
  const why = code === "EADDRINUSE" ? "is already in use" : "is not an address of this machine";
  return new InvalidInputError([
    {
      path: code === "EADDRINUSE" ? "--port" : "--host",
      message: `${options.host}:${options.port} ${why}`,
      hint: "stop the other server or pick another --port (0 picks a free one)",
    },
  ]);
}

/** Like the real server, a config file that cannot be applied is reported, not fatal. */
async function populateFromFile(server: ToxiproxyServer, file: string, runtime: Runtime): Promise<void> {
  try {
    const body = await readFile(resolve(runtime.cwd, file), "utf8");
    const response = await fetch(`${server.url}/populate`, { method: "POST", body });
    const result = (await response.json()) as { error?: string; proxies: unknown[] | null };
    const count = result.proxies?.length ?? 0;
    runtime.stderr.write(
      result.error
        ? `faultline toxiproxy: config ${file}: ${result.error} (${count} proxies applied)\n`
        : `faultline toxiproxy: populated ${count} proxies from ${file}\n`,
    );
  } catch (error) {
    runtime.stderr.write(`faultline toxiproxy: cannot read config ${file}: ${(error as Error).message}\n`);
  }
}

export async function runToxiproxyCommand(
  options: ToxiproxyCommandOptions,
  runtime: Runtime,
): Promise<number> {
  const issues = checkOptions(options);
  if (issues.length > 0) throw new InvalidInputError(issues);
  const seed = options.seed ?? runtime.clock.now() % 2 ** 31;
  const server = await startToxiproxyServer({
    host: options.host,
    port: options.port,
    seed,
    clock: runtime.clock,
    allowNonLoopback: options.allowNonLoopback ?? false,
    proxyMetrics: options.proxyMetrics ?? false,
  }).catch((error: unknown) => {
    throw apiListenError(error, options);
  });
  if (options.config !== undefined) await populateFromFile(server, options.config, runtime);
  runtime.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, seed })}\n`);
  runtime.stderr.write(`faultline toxiproxy: API on ${server.url} (seed ${seed}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const unsubscribe = [runtime.onSignal("SIGINT", () => done()), runtime.onSignal("SIGTERM", () => done())];
    function done(): void {
      for (const off of unsubscribe) off();
      resolve();
    }
  });
  await server.close();
  runtime.stderr.write("faultline toxiproxy: stopped\n");
  return 0;
}
