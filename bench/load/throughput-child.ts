/**
 * One max-throughput block of one client in a process of its own: `ours` (faultline's load
 * generator) or `autocannon`, 32 connections, against the server at `url` for about `seconds`.
 * Prints one JSON line {requests, seconds, cpuMicros} (CPU: this process, user + system, from
 * just before the run). A fresh process per block gives both clients the same start (an empty
 * heap, no other bench's garbage to collect), which a shared bench process did not.
 * Run: node --import tsx bench/load/throughput-child.ts ours|autocannon <url> <seconds> [connections]
 */
import autocannon from "autocannon";
import { compileLoadPlan, runLoad } from "../../harness/load/index.js";

export interface ThroughputBlock {
  readonly requests: number;
  /** Seconds the requests took (ours: first send to last answer; autocannon: its duration). */
  readonly seconds: number;
  /** User + system CPU µs of the client's process during the block. */
  readonly cpuMicros: number;
}

async function ours(url: string, seconds: number, connections: number): Promise<ThroughputBlock> {
  // Arrivals far above what any client manages here (400,000/s for an eighth of the block: as
  // many requests as 50,000/s for the whole of it), so the in-flight cap is always full and the
  // rate is the generator's, not the plan's: at 40,000/s the plan itself was the cap on a quiet
  // machine (39,990 req/s measured three times while autocannon did 64,000).
  const plan = compileLoadPlan({
    rate: 400_000,
    duration: seconds * 125,
    mix: [{ kind: "http", path: "/" }],
    seed: 1,
  });
  const cpu = process.cpuUsage();
  const r = await runLoad(plan, {
    baseUrl: url,
    deadlineMs: 120_000,
    maxInFlight: connections,
    warmup: connections,
  });
  const used = process.cpuUsage(cpu);
  const c = r.columns;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let i = 0; i < c.length; i++) {
    first = Math.min(first, c.sent[i]);
    last = Math.max(last, c.end[i]);
  }
  return { requests: c.length, seconds: (last - first) / 1000, cpuMicros: used.user + used.system };
}

async function theirs(url: string, seconds: number, connections: number): Promise<ThroughputBlock> {
  const cpu = process.cpuUsage();
  const r = await autocannon({ url, connections, pipelining: 1, duration: seconds });
  const used = process.cpuUsage(cpu);
  return { requests: r.requests.total, seconds, cpuMicros: used.user + used.system };
}

const [which, url, secondsArg, connectionsArg] = process.argv.slice(2);
if ((which !== "ours" && which !== "autocannon") || url === undefined || secondsArg === undefined) {
  process.stderr.write("usage: throughput-child.ts ours|autocannon <url> <seconds> [connections]\n");
  process.exit(2);
}
const run = which === "ours" ? ours : theirs;
const block = await run(url, Number(secondsArg), Number(connectionsArg ?? 32));
process.stdout.write(`${JSON.stringify(block)}\n`);
