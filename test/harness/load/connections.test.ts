import type { Client } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { Connections, type Routed } from "../../../harness/load/connections.js";
import { startServer, type TestServer } from "./servers.js";

const servers: TestServer[] = [];
const pools: Connections[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Requests in the order the server got them, with the client port each came from. */
async function recordingServer(): Promise<{ url: string; seen: { path: string; port: number }[] }> {
  const seen: { path: string; port: number }[] = [];
  const s = await startServer((req, _body, res) => {
    seen.push({ path: req.url ?? "", port: req.socket.remotePort ?? 0 });
    res.end("ok");
  });
  servers.push(s);
  return { url: s.url, seen };
}

function connections(url: string, n: number): Connections {
  const c = new Connections(new URL(url).origin, { connections: n, pipelining: 1 });
  pools.push(c);
  return c;
}

/** A routed handler that calls `onEnd` when its answer completes. */
class Probe implements Routed {
  client: Client | null = null;
  waitsInPool = false;
  status = 0;
  error: Error | null = null;
  readonly settled: Promise<void>;
  private resolve: () => void = () => {};

  constructor(private readonly onEnd: (p: Probe) => void = () => {}) {
    this.settled = new Promise((r) => (this.resolve = r));
  }

  onConnect(): void {}
  onHeaders(status: number): boolean {
    this.status = status;
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.onEnd(this);
    this.resolve();
  }
  onError(e: Error): void {
    this.error = e;
    this.resolve();
  }
}

const get = (path: string) => ({ path, method: "GET" as const });

describe("Connections", () => {
  it("a request handed to the connection that has just answered goes out on that socket, opening no other", async () => {
    const s = await recordingServer();
    const pool = connections(s.url, 2);
    const b = new Probe();
    const a = new Probe((p) => pool.dispatch(get("/b"), b, p.client));
    pool.dispatch(get("/a"), a, null);
    await Promise.all([a.settled, b.settled]);
    expect([a.status, b.status, a.error, b.error]).toEqual([200, 200, null, null]);
    expect(b.client).not.toBeNull();
    expect(b.client).toBe(a.client);
    expect(s.seen.map((r) => r.path)).toEqual(["/a", "/b"]);
    expect(s.seen[1]?.port).toBe(s.seen[0]?.port);
  });

  it("without a hand-over the pool opens a second connection for it (the connection is still busy in onComplete)", async () => {
    const s = await recordingServer();
    const pool = connections(s.url, 2);
    const b = new Probe();
    const a = new Probe(() => pool.dispatch(get("/b"), b, null));
    pool.dispatch(get("/a"), a, null);
    await Promise.all([a.settled, b.settled]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.client).not.toBe(a.client);
    expect(s.seen[1]?.port).not.toBe(s.seen[0]?.port);
  });

  it("a request waiting in the pool's queue is not passed by a later hand-over", async () => {
    const s = await recordingServer();
    const pool = connections(s.url, 1);
    const b = new Probe();
    const c = new Probe();
    const a = new Probe((p) => pool.dispatch(get("/c"), c, p.client));
    pool.dispatch(get("/a"), a, null);
    pool.dispatch(get("/b"), b, null); // the only connection is busy: b waits in the pool
    expect([b.client, b.waitsInPool]).toEqual([null, true]);
    await Promise.all([a.settled, b.settled, c.settled]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(s.seen.map((r) => r.path)).toEqual(["/a", "/b", "/c"]);
    expect([b.waitsInPool, c.waitsInPool]).toEqual([false, false]);
    expect([b.client, c.client]).toEqual([a.client, a.client]);
  });
});
