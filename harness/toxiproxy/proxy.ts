import { createServer, connect, type Server, type Socket } from "node:net";
import type { Clock } from "../../common/clock.js";
import { deriveRandom } from "../../common/random.js";
import {
  AddressError,
  formatHostPort,
  isLoopbackHost,
  resolveHost,
  resolveTcpAddr,
  splitHostPort,
} from "./address.js";
import { closeSocket } from "./sockets.js";
import { ToxicCollection } from "./toxic-collection.js";
import type { Direction, ToxicJson } from "./toxic-instance.js";
import type { ProxyMetrics } from "./metrics.js";
import { Mutex } from "./mutex.js";

export interface ProxyContext {
  readonly clock: Clock;
  readonly seed: number;
  /** Without it, proxies may only listen on loopback addresses. */
  readonly allowNonLoopback: boolean;
  /** Byte counters per link, when the server was started with proxy metrics. */
  readonly metrics?: ProxyMetrics;
}

/** The wire form; `Logger: {}` is a quirk of the real server (an untagged Go field) kept for byte equality. */
export interface ProxyJson {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly Logger: Record<string, never>;
  readonly toxics: ToxicJson[];
}

export interface ProxySettings {
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
};

/**
 * One proxy: a listener that, for each client, dials the upstream and joins the two sockets
 * with an upstream link (client -> server) and a downstream link (server -> client).
 * Stopping it (disable, delete, listen/upstream change) closes the listener and every open
 * connection, as the real server does.
 */
export class Proxy {
  readonly toxics = new ToxicCollection();
  enabled = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private connectionCount = 0;
  private readonly mutex = new Mutex();

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly context: ProxyContext,
  ) {}

  json(): ProxyJson {
    const { name, listen, upstream, enabled } = this;
    return { name, listen, upstream, enabled, Logger: {}, toxics: this.toxics.list() };
  }

  /** Listens; false if it already was. Bind errors are thrown with Go's wording (a 500). */
  start(): Promise<boolean> {
    return this.mutex.run(() => this.startLocked());
  }

  stop(): Promise<void> {
    return this.mutex.run(() => this.stopLocked());
  }

  /** PATCH semantics: restart on a changed listen or upstream, then apply `enabled`. */
  update(input: ProxySettings): Promise<void> {
    return this.mutex.run(async () => {
      if (await this.differs(input)) {
        this.stopLocked();
        this.listen = input.listen;
        this.upstream = input.upstream;
      }
      if (input.enabled !== this.enabled) {
        if (input.enabled) await this.startLocked();
        else this.stopLocked();
      }
    });
  }

  /** Whether `other` names a different (resolved) listen address or upstream. */
  async differs(other: Pick<ProxySettings, "listen" | "upstream">): Promise<boolean> {
    return this.listen !== (await resolveTcpAddr(other.listen)) || this.upstream !== other.upstream;
  }

  private async startLocked(): Promise<boolean> {
    if (this.enabled) return false;
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) =>
      this.accept(client),
    );
    const { host, port } = await this.bindAddress();
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        const why = BIND_ERRORS[error.code ?? ""] ?? error.message;
        reject(new Error(`listen tcp ${formatHostPort(host, port)}: bind: ${why}`));
      });
      server.listen({ host: host === "" ? undefined : host, port }, () => resolve());
    });
    server.on("error", () => undefined);
    const address = server.address();
    if (address && typeof address === "object") {
      this.listen = formatHostPort(host === "" ? "::" : address.address, address.port);
    }
    this.server = server;
    this.enabled = true;
    return true;
  }

  private async bindAddress(): Promise<{ host: string; port: number }> {
    try {
      const { host, port } = splitHostPort(this.listen);
      const resolved = await resolveHost(host);
      if (!this.context.allowNonLoopback && !isLoopbackHost(resolved)) {
        throw new AddressError(
          `address ${this.listen}: faultline's Toxiproxy listens on loopback only ` +
            `(use 127.0.0.1:<port>, or start it with --allow-non-loopback)`,
        );
      }
      return { host: resolved, port };
    } catch (error) {
      throw new Error(`listen tcp: ${(error as Error).message}`, { cause: error });
    }
  }

  private stopLocked(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.server?.close();
    this.server = undefined;
    for (const socket of this.sockets) closeSocket(socket);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
  }

  private accept(client: Socket): void {
    this.track(client);
    const sequence = ++this.connectionCount;
    let target: { host: string; port: number };
    try {
      target = splitHostPort(this.upstream);
    } catch {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host || "localhost", port: target.port, allowHalfOpen: true });
    this.track(upstream);
    let connected = false;
    // A failed dial closes the client: it saw its connect succeed, then reads EOF.
    upstream.once("error", () => {
      if (!connected) closeSocket(client);
    });
    upstream.once("connect", () => {
      connected = true;
      if (client.destroyed || !this.enabled) {
        closeSocket(upstream);
        closeSocket(client);
        return;
      }
      // Go's TCP connections have Nagle off by default; so do ours.
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      this.startLink("upstream", client, upstream, sequence);
      this.startLink("downstream", upstream, client, sequence);
    });
  }

  private startLink(direction: Direction, source: Socket, dest: Socket, sequence: number): void {
    const random = deriveRandom(this.context.seed, `${this.name}/${sequence}/${direction}`);
    const labels = { direction, proxy: this.name, listener: this.listen, upstream: this.upstream };
    void this.toxics
      .startLink(direction, source, dest, { clock: this.context.clock, random })
      .then((totals) => this.context.metrics?.record(labels, totals));
  }
}
