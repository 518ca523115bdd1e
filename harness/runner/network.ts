import { Toxiproxy } from "toxiproxy-node-client";
import { RunNotPossibleError } from "../../common/errors.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../toxiproxy/server.js";

/**
 * Network links for Toxiproxy faults. The one link every target has is "client-api": the load
 * generator talks to a proxy whose upstream is the target, so toxics sit between client and
 * API. With TOXIPROXY_URL set the harness uses that server; otherwise it starts the embedded
 * one on loopback, seeded with the scenario's seed.
 */
export interface Network {
  /** Base URL the load generator and checks use (the proxy when a link exists). */
  readonly clientUrl: string;
  readonly toxiproxy: { url: string; links: Readonly<Record<string, string>> } | null;
  close(): Promise<void>;
}

export const SUPPORTED_LINKS = ["client-api"] as const;

export async function setupNetwork(opts: {
  readonly links: readonly string[];
  readonly targetUrl: string;
  readonly runId: string;
  readonly seed: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<Network> {
  if (opts.links.length === 0) {
    return { clientUrl: opts.targetUrl, toxiproxy: null, close: () => Promise.resolve() };
  }
  let server: ToxiproxyServer | null = null;
  const external = opts.env.TOXIPROXY_URL;
  if (!external) server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: opts.seed });
  const apiUrl = external ?? (server as ToxiproxyServer).url;
  const client = new Toxiproxy(apiUrl);
  const created: string[] = [];
  const close = async (): Promise<void> => {
    for (const name of created)
      await client
        .get(name)
        .then((p) => p.remove())
        .catch(() => undefined);
    await server?.close();
  };
  try {
    const target = new URL(opts.targetUrl);
    const name = `faultline-${opts.runId}-client-api`;
    const proxy = await client.createProxy({
      name,
      listen: "127.0.0.1:0",
      upstream: `${target.hostname}:${target.port}`,
    });
    created.push(name);
    const clientUrl = `${target.protocol}//${proxy.listen}${target.pathname.replace(/\/$/, "")}`;
    return { clientUrl, toxiproxy: { url: apiUrl, links: { "client-api": name } }, close };
  } catch (e) {
    await close();
    throw new RunNotPossibleError(
      `could not set up the Toxiproxy link client-api: ${(e as Error).message}`,
      external ? `is TOXIPROXY_URL=${external} reachable?` : undefined,
    );
  }
}
