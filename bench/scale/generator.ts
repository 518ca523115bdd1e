/**
 * The load generator's own memory over a long run: `--seconds` at `--rate` requests/s against
 * the trivial local server (its own process, so this process's RSS is the generator's),
 * streaming requests.bin to a temporary directory as the scenario runner does. Samples RSS
 * every 5 s and prints one JSON line: peak RSS (getrusage), RSS after the first minute and at
 * the end, requests and achieved rate.
 *
 *   node --import tsx bench/scale/generator.ts --seconds 600 --rate 1000
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { spawnModule } from "../../common/spawn-module.js";
import { compileLoadPlan, startLoad } from "../../harness/load/index.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function trivialServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawnModule(new URL("../load/trivial-server.js", import.meta.url), [], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, "line")) as [string];
  lines.close();
  const { port } = JSON.parse(line) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}

const seconds = arg("seconds", 600);
const rate = arg("rate", 1000);
const dir = mkdtempSync(path.join(tmpdir(), "faultline-gen-"));
const server = await trivialServer();
try {
  const plan = compileLoadPlan({
    rate,
    duration: seconds * 1000,
    mix: [{ kind: "http", path: "/" }],
    seed: 1,
  });
  const rss: { tS: number; mb: number }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(
    () => rss.push({ tS: (performance.now() - t0) / 1000, mb: process.memoryUsage().rss / 2 ** 20 }),
    5000,
  );
  const h = startLoad(plan, {
    baseUrl: server.url,
    deadlineMs: 5000,
    maxInFlight: 256,
    warmup: 5,
    requestsFile: path.join(dir, "requests.bin"),
  });
  const r = await h.done;
  clearInterval(sampler);
  const firstMinute = rss.find((s) => s.tS >= 60) ?? rss[0];
  process.stdout.write(
    `${JSON.stringify({
      rows: r.requests.length,
      achievedRate: r.achievedRate,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      rssAfter1MinMb: firstMinute?.mb ?? null,
      rssAtEndMb: rss.at(-1)?.mb ?? null,
    })}\n`,
  );
} finally {
  server.child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
