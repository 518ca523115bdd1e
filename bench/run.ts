/**
 * `npm run bench [-- --quick] [-- --only load,service]`: every benchmark module, repeated
 * (BENCH_REPEATS, default 3; 1 with --quick), as ONE table of medians. Each module measures
 * its baseline in the same run as the figure (autocannon, a direct connection, a bare
 * handler, ...), so the ratio column compares like with like on a machine whose load varies;
 * the ratio shown is the median of the per-run ratios. Writes bench/results/latest.json and
 * latest.md; the table goes to stdout, progress to stderr.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { runLoadBenchmarks } from "./load/index.js";
import { runProxyBenchmarks } from "./proxy/index.js";
import { runReportBenchmarks } from "./reports/index.js";
import { runServiceBenchmarks, type BenchRow } from "./service/index.js";

interface BenchModule {
  readonly name: string;
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
      runLoadBenchmarks(q ? { rate: 2000, rateSeconds: 3, throughputSeconds: 2, memoryRows: 200_000 } : {}),
  },
  {
    name: "proxy",
    run: (q) => runProxyBenchmarks(q ? { samples: 500, transfers: 1, transferBytes: 8 * 1024 * 1024 } : {}),
  },
  { name: "reports", run: (q) => runReportBenchmarks(q ? { seconds: 720, loads: 1 } : {}) },
  { name: "dashboard", run: runDashboard },
  { name: "service", run: (q) => runServiceBenchmarks(q ? { samples: 300, crashes: 1 } : {}) },
];

export interface SummaryRow {
  readonly module: string;
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly baseline: number | null;
  /** Median of the per-run ratios (each ratio against the baseline of its own run). */
  readonly ratio: number | null;
  readonly runs: number;
}

function median(xs: readonly number[]): number | null {
  const finite = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/** The row's own ratio, or value / baseline when a module gave only the baseline. */
function ratioOf(r: BenchRow): number | null {
  if (r.ratio !== undefined) return r.ratio;
  if (r.baseline === undefined || r.baseline === 0) return null;
  return r.value / r.baseline;
}

/** Groups the rows of every run by module and figure name, keeping first-seen order. */
export function summarize(runs: readonly { module: string; rows: readonly BenchRow[] }[]): SummaryRow[] {
  const groups = new Map<string, { module: string; unit: string; name: string; rows: BenchRow[] }>();
  for (const r of runs) {
    for (const row of r.rows) {
      const key = `${r.module}\u0000${row.name}`;
      const g = groups.get(key) ?? { module: r.module, unit: row.unit, name: row.name, rows: [] };
      g.rows.push(row);
      groups.set(key, g);
    }
  }
  return [...groups.values()].map((g) => {
    const values = g.rows.map((x) => x.value).filter((x) => Number.isFinite(x));
    return {
      module: g.module,
      name: g.name,
      unit: g.unit,
      median: median(values) ?? Number.NaN,
      min: values.length ? Math.min(...values) : Number.NaN,
      max: values.length ? Math.max(...values) : Number.NaN,
      baseline: median(g.rows.flatMap((x) => (x.baseline === undefined ? [] : [x.baseline]))),
      ratio: median(g.rows.flatMap((x) => (ratioOf(x) === null ? [] : [ratioOf(x) as number]))),
      runs: g.rows.length,
    };
  });
}

const fmt = (x: number | null): string => {
  if (x === null || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  return a >= 1000
    ? x.toFixed(0)
    : a >= 10
      ? x.toFixed(1)
      : a >= 0.01 || a === 0
        ? x.toFixed(3)
        : x.toExponential(2);
};

export function markdownTable(rows: readonly SummaryRow[]): string {
  const head =
    "| figure | median | unit | baseline (same run) | ratio | min–max | runs |\n|---|---:|---|---:|---:|---|---:|";
  const body = rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.median)} | ${r.unit} | ${fmt(r.baseline)} | ${r.ratio === null ? "–" : `×${fmt(r.ratio)}`} | ${fmt(r.min)}–${fmt(r.max)} | ${r.runs} |`,
  );
  return [head, ...body].join("\n");
}

interface Args {
  readonly quick: boolean;
  readonly only: readonly string[] | null;
  readonly repeats: number;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const quick = argv.includes("--quick");
  const i = argv.indexOf("--only");
  const only = i >= 0 ? (argv[i + 1] ?? "").split(",").filter(Boolean) : null;
  const raw = env.BENCH_REPEATS;
  const repeats = raw === undefined ? (quick ? 1 : 3) : Number(raw);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`BENCH_REPEATS must be an integer >= 1, got "${raw}"`);
  const unknown = (only ?? []).filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown module ${unknown.join(", ")} (one of ${MODULES.map((m) => m.name).join(", ")})`,
    );
  return { quick, only, repeats };
}

async function runAll(
  args: Args,
): Promise<{ runs: { module: string; rows: BenchRow[] }[]; errors: string[] }> {
  const runs: { module: string; rows: BenchRow[] }[] = [];
  const errors: string[] = [];
  const selected = MODULES.filter((m) => (args.only ? args.only.includes(m.name) : true));
  for (let rep = 1; rep <= args.repeats; rep++) {
    for (const m of selected) {
      if (m.name === "dashboard" && !hasDashboard()) continue;
      process.stderr.write(`bench: ${m.name} (run ${rep}/${args.repeats})...\n`);
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
  const args = parseArgs(process.argv.slice(2), process.env);
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

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = await main();
