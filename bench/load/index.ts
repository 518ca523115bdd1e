import type { BenchRow } from "../row.js";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { spawnModule } from "../../common/spawn-module.js";
import { OUTCOME_CODE } from "../../common/outcome.js";
import { compileLoadPlan, runLoad, BYTES_PER_REQUEST } from "../../harness/load/index.js";
import type { ThroughputBlock } from "./throughput-child.js";

export type { BenchRow } from "../row.js";

export interface LoadBenchOptions {
  /** Seconds of the rate-accuracy run (acceptance: 20). */
  readonly rateSeconds?: number;
  /** Target rate of the rate-accuracy run (acceptance: 5000). */
  readonly rate?: number;
  /** Seconds of max-throughput load per client (ours and autocannon's), split into blocks. */
  readonly throughputSeconds?: number;
  /** Alternating blocks the throughput seconds are split into. */
  readonly throughputBlocks?: number;
  /** Connections for the max-throughput comparison. */
  readonly connections?: number;
  /** Rows recorded for the memory figure. */
  readonly memoryRows?: number;
}

interface TrivialServer {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startTrivialServer(): Promise<TrivialServer> {
  const child = spawnModule(new URL("./trivial-server.js", import.meta.url), [], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, "line")) as [string];
  lines.close();
  const { port } = JSON.parse(line) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stopServer(s: TrivialServer): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = once(s.child, "exit");
  s.child.kill("SIGTERM");
  await exited;
}

const http = [{ kind: "http" as const, path: "/" }];

/** Open-model run at `rate` for `seconds`: how close to the target it sends, and how late. */
async function rateAccuracy(url: string, rate: number, seconds: number): Promise<BenchRow[]> {
  const plan = compileLoadPlan({ rate, duration: seconds * 1000, mix: http, seed: 1 });
  // 64 connections: at thousands of req/s a burst that opens hundreds of new connections costs
  // more than it serves (the trivial server answers in well under a millisecond).
  const r = await runLoad(plan, {
    baseUrl: url,
    deadlineMs: 5000,
    maxInFlight: 1024,
    connections: 64,
    warmup: 64,
  });
  const ok = r.columns.outcome.filter((o) => o === OUTCOME_CODE.ok).length;
  return [
    {
      name: `load: achieved rate at ${rate} req/s target`,
      value: r.achievedRate,
      unit: "req/s",
      baseline: rate,
      ratio: r.achievedRate / rate,
    },
    { name: "load: send-lag P99 (actual - intended send)", value: r.sendLagP99Ms ?? Number.NaN, unit: "ms" },
    { name: "load: ok share of the rate run", value: ok / r.columns.length, unit: "ratio" },
  ];
}

/**
 * Saturation throughput: arrivals far above capacity with `connections` in flight; the
 * generator then sends whenever a slot frees, which is its maximum rate. Counted over the
 * span from first send to last answer.
 */
interface Throughput {
  readonly rate: number;
  /** CPU time (user + system) of the client's process per completed request: efficiency that a busy machine distorts less than rates. */
  readonly cpuMicrosPerRequest: number;
}

/** One block of one client, in a process of its own (bench/load/throughput-child.ts). */
function throughputBlock(
  which: "ours" | "autocannon",
  url: string,
  connections: number,
  seconds: number,
): Promise<ThroughputBlock> {
  return childJson<ThroughputBlock>("./throughput-child.js", [
    which,
    url,
    String(seconds),
    String(connections),
  ]);
}

/**
 * Both clients in alternating blocks (ABBA...), summed, each block in a fresh process: on 2
 * shared cores one 10 s run of each moved by ±25% from one run to the next (autocannon alone:
 * 45,000-70,000 req/s), so a single pair compared two different machines; and in the bench's
 * own process our client also paid for the garbage of the benches before it.
 */
async function alternatingThroughput(
  url: string,
  connections: number,
  seconds: number,
  blocks: number,
): Promise<{ ours: Throughput; theirs: Throughput }> {
  const sums = {
    ours: { requests: 0, seconds: 0, cpuMicros: 0 },
    theirs: { requests: 0, seconds: 0, cpuMicros: 0 },
  };
  const add = (to: { requests: number; seconds: number; cpuMicros: number }, m: ThroughputBlock): void => {
    to.requests += m.requests;
    to.seconds += m.seconds;
    to.cpuMicros += m.cpuMicros;
  };
  const each = seconds / blocks;
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? (["autocannon", "ours"] as const) : (["ours", "autocannon"] as const);
    for (const which of order)
      add(which === "ours" ? sums.ours : sums.theirs, await throughputBlock(which, url, connections, each));
  }
  const of = (m: ThroughputBlock): Throughput => ({
    rate: m.requests / m.seconds,
    cpuMicrosPerRequest: m.cpuMicros / m.requests,
  });
  return { ours: of(sums.ours), theirs: of(sums.theirs) };
}

/** Runs a bench child module to its end and parses the one JSON line it prints. */
async function childJson<T>(module: string, args: readonly string[]): Promise<T> {
  const child = spawnModule(new URL(module, import.meta.url), args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${module} ${args.join(" ")} exited with ${code}`);
  return JSON.parse(out.trim()) as T;
}

/** Bytes of memory per recorded request, measured by filling a log in a fresh process. */
async function bytesPerRequest(rows: number): Promise<BenchRow[]> {
  const r = await childJson<{ grownBytes: number; length: number }>("./memory-child.js", [String(rows)]);
  return [
    {
      name: `load: memory per recorded request (${rows} requests)`,
      value: r.grownBytes / rows,
      unit: "bytes",
      baseline: BYTES_PER_REQUEST,
    },
    { name: "load: log length check", value: r.length, unit: "requests" },
  ];
}

export async function runLoadBenchmarks(options: LoadBenchOptions = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = await bytesPerRequest(options.memoryRows ?? 1_000_000);
  const server = await startTrivialServer();
  try {
    rows.push(...(await rateAccuracy(server.url, options.rate ?? 5000, options.rateSeconds ?? 20)));
    const connections = options.connections ?? 32;
    const seconds = options.throughputSeconds ?? 10;
    const blocks = options.throughputBlocks ?? 4;
    const { ours, theirs } = await alternatingThroughput(server.url, connections, seconds, blocks);
    rows.push(
      {
        name: `load: max throughput, ${connections} connections`,
        value: ours.rate,
        unit: "req/s",
        baseline: theirs.rate,
        ratio: ours.rate / theirs.rate,
      },
      { name: `autocannon: max throughput, ${connections} connections`, value: theirs.rate, unit: "req/s" },
      {
        name: "load: client CPU per request at max throughput",
        value: ours.cpuMicrosPerRequest,
        unit: "us",
        baseline: theirs.cpuMicrosPerRequest,
        ratio: ours.cpuMicrosPerRequest / theirs.cpuMicrosPerRequest,
      },
      { name: "autocannon: client CPU per request", value: theirs.cpuMicrosPerRequest, unit: "us" },
    );
  } finally {
    await stopServer(server);
  }
  return rows;
}

/** `node --import tsx bench/load/index.ts [--quick]`: rows as JSON on stdout, a table on stderr. */
async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const rows = await runLoadBenchmarks(
    quick ? { rateSeconds: 3, throughputSeconds: 3, throughputBlocks: 2, memoryRows: 200_000 } : {},
  );
  for (const r of rows) {
    const ratio = r.ratio === undefined ? "" : `  (x${r.ratio.toFixed(3)} of ${r.baseline?.toFixed(1)})`;
    process.stderr.write(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${ratio}\n`);
  }
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
