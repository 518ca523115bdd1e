// Ad-hoc probe (not part of npm run bench): sequential chats through the real worker, for
// profiling. Besides latency it prints what machine load moves less: CPU time (user+system) and
// voluntary context switches (sleeps, i.e. wake-ups) per round trip, of the API process and of
// the worker, from /proc (Linux).
// Run: node --import tsx bench/service/probe-worker.ts [round trips, default 500]
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processRuntime } from "../../common/runtime.js";
import { STATE_FILES } from "../../reference-service/contract.js";
import { serveReference } from "../../reference-service/serve.js";
import { ZERO_WORKER } from "./index.js";
import { Client, percentile } from "./measure.js";

/** CPU ms (user+system) and voluntary context switches of a process so far. */
function usage(pid: number): { cpuMs: number; wakeups: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const wakeups = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { cpuMs: ticks * 10, wakeups }; // USER_HZ is 100 on Linux
}

const dir = await mkdtemp(join(tmpdir(), "probe-"));
const stateDir = join(dir, "w");
const svc = await serveReference(
  { config: { port: 0, stateDir, fallback: { cache: false }, worker: ZERO_WORKER }, workerStderr: "inherit" },
  { ...processRuntime(), cwd: dir },
);
const c = new Client(svc.url);
while ((await c.get("/health/ready")) !== 200) await sleep(5);
for (let i = 0; i < 200; i++) await c.chat(); // warm-up
const workerPid = Number((await readFile(join(stateDir, STATE_FILES.workerPid), "utf8")).trim());
const n = Number(process.argv[2] ?? 500);
const before = [usage(process.pid), usage(workerPid)];
const t: number[] = [];
for (let i = 0; i < n; i++) t.push((await c.chat())[0]);
const after = [usage(process.pid), usage(workerPid)];
t.sort((a, b) => a - b);
const per = (k: "cpuMs" | "wakeups", i: number, scale: number): string =>
  (((after[i][k] - before[i][k]) / n) * scale).toFixed(k === "cpuMs" ? 0 : 2);
console.log(
  `worker p50 ${percentile(t, 50).toFixed(0)} µs p90 ${percentile(t, 90).toFixed(0)} p99 ${percentile(t, 99).toFixed(0)}; ` +
    `per round trip: API CPU ${per("cpuMs", 0, 1000)} µs, ${per("wakeups", 0, 1)} sleeps; ` +
    `worker CPU ${per("cpuMs", 1, 1000)} µs, ${per("wakeups", 1, 1)} sleeps`,
);
await c.close();
// PROBE_GRACEFUL=1: SIGTERM the worker and wait for it (so `NODE_OPTIONS=--cpu-prof` gets its profile).
if (process.env.PROBE_GRACEFUL === "1") await svc.close();
else await svc.forceClose();
await rm(dir, { recursive: true, force: true });
