/**
 * `npm run bench [-- --quick] [-- --only load,service]`: every benchmark module, repeated
 * (BENCH_REPEATS, default 3; 1 with --quick; the scale module once), as ONE table of medians. Each module measures
 * its baseline in the same run as the figure (autocannon, a direct connection, a bare
 * handler, ...), so the ratio column compares like with like on a machine whose load varies;
 * the ratio shown is the median of the per-run ratios. Writes bench/results/latest.json and
 * latest.md; the table goes to stdout, progress to stderr.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { runLlamaBenchmarks } from "./llama/index.js";
import { runLoadBenchmarks } from "./load/index.js";
import { runProxyBenchmarks } from "./proxy/index.js";
import { runReportBenchmarks } from "./reports/index.js";
import { runScaleBenchmarks } from "./scale/index.js";
import { runServiceBenchmarks, type BenchRow } from "./service/index.js";
import { markdownTable, summarize } from "./aggregate.js";
import { parseBenchArgs, type BenchArgs } from "./args.js";

export { markdownTable, summarize, type SummaryRow } from "./aggregate.js";

interface BenchModule {
  readonly name: string;
  /** Run once whatever BENCH_REPEATS says: the module is long and its figures are budgets
   * (peak RSS, analysis time), not same-run ratios that need a median to settle. */
  readonly once?: boolean;
  run(quick: boolean): Promise<BenchRow[]>;
}

type DashboardModule = { runDashboardBenchmarks?: (options?: { quick?: boolean }) => Promise<BenchRow[]> };

/** The dashboard benchmark is optional: run when bench/dashboard/index.ts exists. */
async function runDashboard(quick: boolean): Promise<BenchRow[]> {
  const spec = "./dashboard/index.js";
  const mod = (await import(spec)) as DashboardModule;
  if (typeof mod.runDashboardBenchmarks !== "function")
    throw new Error("bench/dashboard/index.ts exports no runDashboardBenchmarks");
  return mod.runDashboardBenchmarks({ quick });
}

const hasDashboard = (): boolean =>
  ["index.ts", "index.js"].some((f) =>
    existsSync(fileURLToPath(new URL(`./dashboard/${f}`, import.meta.url))),
  );

/** Every module, in run order; quick options keep a smoke run to about a minute. */
const MODULES: readonly BenchModule[] = [
  {
    name: "load",
    run: (q) =>
      runLoadBenchmarks(
        q
          ? { rate: 2000, rateSeconds: 3, throughputSeconds: 2, throughputBlocks: 2, memoryRows: 200_000 }
          : {},
      ),
  },
  {
    name: "proxy",
    run: (q) => runProxyBenchmarks(q ? { samples: 500, transfers: 1, transferBytes: 8 * 1024 * 1024 } : {}),
  },
  { name: "reports", run: (q) => runReportBenchmarks(q ? { seconds: 720, loads: 1 } : {}) },
  { name: "dashboard", run: runDashboard },
  // Quick: 10 min at 5,000/s (3 M requests); the full run is 4 h (72 M, about 6 GB of disk
  // briefly) plus a 10-minute generator run.
  {
    name: "scale",
    once: true,
    run: (q) => runScaleBenchmarks(q ? { seconds: 600, generatorSeconds: 30 } : {}),
  },
  { name: "service", run: (q) => runServiceBenchmarks(q ? { samples: 300, crashes: 1 } : {}) },
  { name: "llama", run: (q) => runLlamaBenchmarks(q ? { requests: 10, crashes: 1 } : {}) },
];

async function runAll(
  args: BenchArgs,
): Promise<{ runs: { module: string; rows: BenchRow[] }[]; errors: string[] }> {
  const runs: { module: string; rows: BenchRow[] }[] = [];
  const errors: string[] = [];
  const selected = MODULES.filter((m) => (args.only ? args.only.includes(m.name) : true));
  for (let rep = 1; rep <= args.repeats; rep++) {
    for (const m of selected) {
      if (m.name === "dashboard" && !hasDashboard()) continue;
      if (m.once === true && rep > 1) continue;
      const of = m.once === true ? "once" : `run ${rep}/${args.repeats}`;
      process.stderr.write(`bench: ${m.name} (${of})...\n`);
      const t0 = performance.now();
      try {
        runs.push({ module: m.name, rows: await m.run(args.quick) });
      } catch (e) {
        errors.push(`${m.name} run ${rep}: ${(e as Error).message}`);
      }
      process.stderr.write(`bench: ${m.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  return { runs, errors };
}

async function main(): Promise<number> {
  const args = parseBenchArgs(
    process.argv.slice(2),
    process.env,
    MODULES.map((m) => m.name),
  );
  const startedAt = new Date().toISOString();
  const { runs, errors } = await runAll(args);
  const rows = summarize(runs);
  const machine = {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "",
    loadavg: loadavg(),
  };
  const table = markdownTable(rows);
  const heading = `Benchmarks ${startedAt}${args.quick ? " (--quick)" : ""}: median of ${args.repeats} run(s), node ${machine.node}, ${machine.cpus} CPUs, load average at start ${machine.loadavg.map((x) => x.toFixed(2)).join(" ")}`;
  const errorText = errors.length ? `\n\nFailed modules:\n${errors.map((e) => `- ${e}`).join("\n")}` : "";
  const md = `${heading}\n\n${table}${errorText}\n`;
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const json = { startedAt, quick: args.quick, repeats: args.repeats, machine, rows, errors };
  await writeFile(`${dir}latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${dir}latest.md`, md);
  process.stdout.write(md);
  process.stderr.write(`bench: wrote bench/results/latest.json and latest.md\n`);
  return errors.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main().catch((e: unknown) => {
    // A bad flag or BENCH_REPEATS: the message names the fix; a stack would bury it.
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  });
}
