import { createServer, connect, type Server, type Socket } from "node:net";
import { startToxiproxyServer, type ToxiproxyServer } from "../../../harness/toxiproxy/server.js";

/**
 * Conformance helpers. With TOXIPROXY_URL set the tests talk to that (real) Toxiproxy and
 * start nothing; otherwise they start the embedded server on 127.0.0.1:0. Upstreams are
 * always local servers on loopback, and proxies always listen on 127.0.0.1:0.
 */
export interface Target {
  readonly url: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export async function startTarget(seed = 7): Promise<Target> {
  const external = process.env.TOXIPROXY_URL;
  if (external) return { url: external.replace(/\/$/, ""), embedded: false, close: () => Promise.resolve() };
  const server: ToxiproxyServer = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed });
  return { url: server.url, embedded: true, close: () => server.close() };
}

let counter = 0;
/** Proxy names unique per test run, so a shared real server is not disturbed. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `fl_${prefix}_${process.pid}_${counter}`;
}

export interface Upstream {
  readonly address: string;
  readonly port: number;
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 running `onSocket` for each connection. */
export async function startUpstream(onSocket: (socket: Socket) => void): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes every byte back. */
export const startEcho = (): Promise<Upstream> => startUpstream((socket) => socket.pipe(socket));

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(":") + 1));
}

export interface Received {
  /** Each read with its arrival time (ms since `connectTo` was called). */
  readonly reads: { bytes: number; at: number }[];
  data(): Buffer;
  /** Resolves at close with how it ended. */
  readonly ended: Promise<{ how: "end" | "error"; code?: string; at: number }>;
}

/** Connects to 127.0.0.1:port and records every read and how the connection ended. */
export function connectTo(port: number): { socket: Socket; received: Received; connected: Promise<void> } {
  const start = performance.now();
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  const reads: { bytes: number; at: number; chunk: Buffer }[] = [];
  socket.on("data", (chunk: Buffer) =>
    reads.push({ bytes: chunk.length, at: performance.now() - start, chunk }),
  );
  const ended = new Promise<{ how: "end" | "error"; code?: string; at: number }>((resolve) => {
    socket.once("error", (error: NodeJS.ErrnoException) =>
      resolve({ how: "error", code: error.code ?? "", at: performance.now() - start }),
    );
    socket.once("end", () => resolve({ how: "end", at: performance.now() - start }));
    socket.once("close", () => resolve({ how: "end", at: performance.now() - start }));
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return {
    socket,
    connected,
    received: { reads, data: () => Buffer.concat(reads.map((r) => r.chunk)), ended },
  };
}

/** Waits until `predicate` holds, polling every 5 ms, failing after `ms`. */
export async function until(predicate: () => boolean, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw API call returning status, headers and body text (for what the client library hides). */
export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; type: string | null; headers: Headers }> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(`${url}${path}`, init);
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get("content-type"),
    headers: response.headers,
  };
}
