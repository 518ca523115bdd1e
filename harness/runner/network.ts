import { Toxiproxy } from "toxiproxy-node-client";
import { RunNotPossibleError } from "../../common/errors.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../toxiproxy/server.js";

/**
 * Network links for Toxiproxy faults. "client-api": the load generator talks to a proxy whose
 * upstream is the target, so toxics sit between client and API. "api-upstream" (reference
 * target with `upstreamLink: true`): the API reaches its model server through a proxy. With
 * TOXIPROXY_URL set the harness uses that server; otherwise it starts the embedded one on
 * loopback (only when a link is needed), seeded with the scenario's seed.
 */
export class Links {
  private server: ToxiproxyServer | null = null;
  private apiUrl: string | null = null;
  private readonly created = new Map<string, string>();

  constructor(
    private readonly opts: {
      readonly runId: string;
      readonly seed: number;
      readonly env: Readonly<Record<string, string | undefined>>;
    },
  ) {}

  /** Creates link `name` to `upstreamUrl`; returns the URL to use instead (same scheme and path). */
  async add(name: string, upstreamUrl: string): Promise<string> {
    const external = this.opts.env.TOXIPROXY_URL;
    try {
      if (this.apiUrl === null) {
        if (!external)
          this.server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: this.opts.seed });
        this.apiUrl = external ?? this.server?.url ?? "";
      }
      const target = new URL(upstreamUrl);
      const proxyName = `faultline-${this.opts.runId}-${name}`;
      const proxy = await new Toxiproxy(this.apiUrl).createProxy({
        name: proxyName,
        listen: "127.0.0.1:0",
        upstream: `${target.hostname}:${target.port}`,
      });
      this.created.set(name, proxyName);
      return `${target.protocol}//${proxy.listen}${target.pathname.replace(/\/$/, "")}`;
    } catch (e) {
      throw new RunNotPossibleError(
        `could not set up the Toxiproxy link ${name}: ${(e as Error).message}`,
        external ? `is TOXIPROXY_URL=${external} reachable?` : undefined,
      );
    }
  }

  /** What injectors need: the API URL and the proxy name of each link. */
  get toxiproxy(): { url: string; links: Readonly<Record<string, string>> } | null {
    return this.apiUrl === null ? null : { url: this.apiUrl, links: Object.fromEntries(this.created) };
  }

  async close(): Promise<void> {
    if (this.apiUrl !== null) {
      const client = new Toxiproxy(this.apiUrl);
      for (const proxyName of this.created.values()) {
        await client
          .get(proxyName)
          .then((p) => p.remove())
          .catch(() => undefined);
      }
    }
    await this.server?.close();
  }
}
