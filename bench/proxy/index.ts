import type { BenchRow } from "../row.js";
import { createServer, connect, type Server, type Socket } from "node:net";
import { startToxiproxyServer } from "../../harness/toxiproxy/server.js";
import { openRealToxiproxy } from "./real-toxiproxy.js";

export type { BenchRow } from "../row.js";

export interface ProxyBenchOptions {
  /** Round trips per path (direct and proxied), after warm-up. */
  readonly samples?: number;
  /** Bytes per throughput transfer. */
  readonly transferBytes?: number;
  /** Transfers per path; the median is reported. */
  readonly transfers?: number;
}

interface Listening {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Echo for round trips; a sink that answers "k" once it has counted `transferBytes` for throughput. */
function benchUpstream(transferBytes: number): Server {
  return createServer((socket) => {
    socket.setNoDelay(true);
    let mode: "unknown" | "echo" | "sink" = "unknown";
    let counted = 0;
    socket.on("data", (data: Buffer) => {
      if (mode === "unknown") mode = data[0] === 0x53 /* S */ ? "sink" : "echo";
      if (mode === "echo") {
        socket.write(data);
        return;
      }
      counted += data.length;
      if (counted >= transferBytes + 1) {
        counted -= transferBytes + 1;
        socket.write("k");
      }
    });
    socket.on("error", () => undefined);
  });
}

/**
 * The least any Node TCP relay costs (socket.pipe both ways, Nagle off): a reference point
 * that separates the toxic chain's overhead from the extra hop's.
 */
function pipeRelay(upstreamPort: number): Server {
  return createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: upstreamPort, noDelay: true });
    client.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

function nextData(socket: Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (data: Buffer): void => {
      got += data.length;
      if (got < bytes) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
}

/** Round-trip times in µs of a 64-byte echo on one connection, one request at a time. */
async function roundTrips(socket: Socket, count: number): Promise<number[]> {
  const message = Buffer.alloc(64, 0x61);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    const reply = nextData(socket, message.length);
    socket.write(message);
    await reply;
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times;
}

/** MB/s (10^6 bytes) of one one-way transfer of `bytes`, acknowledged by the sink. */
async function transfer(port: number, bytes: number): Promise<number> {
  const socket = await open(port);
  const block = Buffer.alloc(64 * 1024, 0x53);
  const start = process.hrtime.bigint();
  const done = nextData(socket, 1);
  socket.write(Buffer.from("S"));
  for (let sent = 0; sent < bytes; sent += block.length) {
    const piece = sent + block.length <= bytes ? block : block.subarray(0, bytes - sent);
    if (!socket.write(piece)) await new Promise((resolve) => socket.once("drain", resolve));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return bytes / 1e6 / seconds;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

const median = (values: readonly number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

function row(name: string, value: number, unit: string, baseline?: number): BenchRow {
  if (baseline === undefined) return { name, value: round(value), unit };
  return { name, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline, 2) };
}

/**
 * Embedded Toxiproxy with no toxic, against a direct connection to the same upstream (and a
 * bare Node pipe relay as a reference point), in the same run: round-trip P50/P99 (64-byte
 * echo, one connection per path, alternating blocks so all paths see the same machine load)
 * and one-way throughput (median of a few transfers). Everything runs in this one process,
 * so the figures include the client's and upstream's event-loop work too.
 */
export async function runProxyBenchmarks(options: ProxyBenchOptions = {}): Promise<BenchRow[]> {
  const samples = options.samples ?? 2000;
  const transferBytes = options.transferBytes ?? 32 * 1024 * 1024;
  const transfers = options.transfers ?? 3;
  const upstream = await listen(benchUpstream(transferBytes));
  const relay = await listen(pipeRelay(upstream.port));
  const toxiproxy = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1 });
  const real = await openRealToxiproxy(upstream.port);
  try {
    const created = await fetch(`${toxiproxy.url}/proxies`, {
      method: "POST",
      body: JSON.stringify({ name: "bench", listen: "127.0.0.1:0", upstream: `127.0.0.1:${upstream.port}` }),
    });
    const listenAddress = ((await created.json()) as { listen: string }).listen;
    const proxyPort = Number(listenAddress.slice(listenAddress.lastIndexOf(":") + 1));
    const ports: Record<string, number> = { direct: upstream.port, relay: relay.port, proxy: proxyPort };
    if (real) {
      ports.real = real.port;
      process.stderr.write(`bench proxy: comparing with real Toxiproxy (${real.description})\n`);
    } else {
      process.stderr.write(
        "bench proxy: no real Toxiproxy to compare with (set TOXIPROXY_BIN or TOXIPROXY_URL)\n",
      );
    }
    const rtt = await measureRoundTrips(ports, samples);
    const mbs = await measureThroughput(ports, transferBytes, transfers);
    const at = <T>(m: Record<string, T>, name: string): T => m[name];
    /** The P50 and P99 round-trip rows of `path` against `base`; `name` names each percentile's row. */
    const roundTrips = (name: (p: "p50" | "p99") => string, path: string, base: string) =>
      (["p50", "p99"] as const).map((p) => row(name(p), at(rtt, path)[p], "µs", at(rtt, base)[p]));
    const rows = [
      ...roundTrips((p) => `proxy round trip ${p} (64 B echo, no toxic)`, "proxy", "direct"),
      row("proxy added latency p50 per round trip", at(rtt, "proxy").p50 - at(rtt, "direct").p50, "µs"),
      ...roundTrips((p) => `node pipe relay round trip ${p} (reference point)`, "relay", "direct"),
      row("proxy throughput (one-way, no toxic)", at(mbs, "proxy"), "MB/s", at(mbs, "direct")),
      row("node pipe relay throughput (reference point)", at(mbs, "relay"), "MB/s", at(mbs, "direct")),
    ];
    if (real)
      rows.push(
        ...roundTrips((p) => `embedded proxy round trip ${p} vs real Toxiproxy`, "proxy", "real"),
        row("embedded proxy throughput vs real Toxiproxy", at(mbs, "proxy"), "MB/s", at(mbs, "real")),
      );
    return rows;
  } finally {
    await real?.close();
    await toxiproxy.close();
    await relay.close();
    await upstream.close();
  }
}

/** Alternating blocks of round trips per path, so all paths see the same machine load. */
async function measureRoundTrips(
  ports: Record<string, number>,
  samples: number,
): Promise<Record<string, { p50: number; p99: number }>> {
  const names = Object.keys(ports);
  const sockets = await Promise.all(names.map((n) => open(ports[n])));
  const times: number[][] = names.map(() => []);
  for (const socket of sockets) await roundTrips(socket, 200);
  const block = 250;
  for (let done = 0; done < samples; done += block) {
    for (const [i, socket] of sockets.entries()) times[i]?.push(...(await roundTrips(socket, block)));
  }
  for (const socket of sockets) socket.destroy();
  return Object.fromEntries(
    names.map((name, i) => {
      const sorted = [...(times[i] ?? [])].sort((a, b) => a - b);
      return [name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
    }),
  );
}

/** Median MB/s per path over `transfers` rounds, paths interleaved. */
async function measureThroughput(
  ports: Record<string, number>,
  bytes: number,
  transfers: number,
): Promise<Record<string, number>> {
  const names = Object.keys(ports);
  const runs = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < transfers; i++) {
    for (const name of names) runs.get(name)?.push(await transfer(ports[name], bytes));
  }
  return Object.fromEntries(names.map((n) => [n, median(runs.get(n) ?? [])]));
}
