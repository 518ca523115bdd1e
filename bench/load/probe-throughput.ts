// Ad-hoc probe (not part of npm run bench): the max-throughput run of bench/load alone, ours
// (argv[2] "ours") or autocannon's, against the trivial server in its own process, for
// profiling with --cpu-prof. Prints the rate and the client CPU per request.
import { spawnModule } from "../../common/spawn-module.js";
import { once } from "node:events";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { compileLoadPlan, runLoad } from "../../harness/load/index.js";

const child = spawnModule(new URL("./trivial-server.js", import.meta.url), [], {
  stdio: ["pipe", "pipe", "inherit"],
});
const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
const [line] = (await once(lines, "line")) as [string];
lines.close();
const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
const seconds = Number(process.argv[3] ?? 10);
const cpu = process.cpuUsage();
if (process.argv[2] === "autocannon") {
  const r = await autocannon({ url, connections: 32, pipelining: 1, duration: seconds });
  const used = process.cpuUsage(cpu);
  console.log(
    `autocannon ${(r.requests.total / seconds).toFixed(0)} req/s, ${((used.user + used.system) / r.requests.total).toFixed(1)} µs CPU/req`,
  );
} else {
  const plan = compileLoadPlan({
    rate: Number(process.env.RATE ?? 400_000),
    duration: seconds * Number(process.env.DUR ?? 125),
    mix: [{ kind: "http", path: "/" }],
    seed: 1,
  });
  const planned = process.cpuUsage(cpu);
  const r = await runLoad(plan, { baseUrl: url, deadlineMs: 120_000, maxInFlight: 32, warmup: 32 });
  const used = process.cpuUsage(cpu);
  const c = r.columns;
  let first = Infinity;
  let last = 0;
  for (let i = 0; i < c.length; i++) {
    first = Math.min(first, c.sent[i]);
    last = Math.max(last, c.end[i]);
  }
  console.log(
    `ours ${(c.length / ((last - first) / 1000)).toFixed(0)} req/s, ${((used.user + used.system) / c.length).toFixed(1)} µs CPU/req (plan ${((planned.user + planned.system) / c.length).toFixed(2)})`,
  );
}
child.kill("SIGTERM");
