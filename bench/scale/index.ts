import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runReportBenchmarks } from "../reports/index.js";
import type { BenchRow } from "../row.js";

export interface ScaleBenchOptions {
  /** Synthetic run length (acceptance: 4 h = 14,400 s) at `rate` requests/s (5,000). */
  readonly seconds?: number;
  readonly rate?: number;
  /** The generator's own run (bench/scale/generator.ts): 600 s at 1,000 req/s by default. */
  readonly generatorSeconds?: number;
  readonly generatorRate?: number;
}

/** Issue 17's goals: bounded memory and a 60 s analysis on 2 cores. */
export const SCALE_RSS_BUDGET_MB = 300;
export const SCALE_ANALYSIS_BUDGET_S = 60;

interface ChildResult {
  readonly rows: number;
  readonly writeS: number;
  readonly analysisS: number;
  readonly analysisCpuS: number;
  readonly passes: number;
  readonly fileBytes: number;
  readonly peakRssMb: number;
}

/** Runs a bench/scale script in its own process, so the peak RSS measured is its alone. */
function runChild<T>(name: string, seconds: number, rate: number): Promise<T> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", script, "--seconds", String(seconds), "--rate", String(rate)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`bench/scale/${name} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as T);
      } catch (e) {
        reject(new Error(`bench/scale/${name} printed no result: ${(e as Error).message}`));
      }
    });
  });
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Scale: a synthetic game day (default 4 h at 5,000 requests/s = 72 M requests) through the
 * streaming request log, the record writer and the SLA engine, in a child process. Ratios are
 * against the budgets (300 MB peak RSS, 60 s analysis), not against a baseline run:
 * the in-memory engine this replaced would need about 3 GB for the same run.
 */
export async function runScaleBenchmarks(options: ScaleBenchOptions = {}): Promise<BenchRow[]> {
  const seconds = options.seconds ?? 14_400;
  const rate = options.rate ?? 5000;
  const r = await runChild<ChildResult>("run.ts", seconds, rate);
  // The report of such a run: charts come from the per-second windows, so its size and open
  // time follow the run's length in seconds, not its request count.
  const report = await runReportBenchmarks({ seconds, rate, loads: 3 });
  const label = `${round(r.rows / 1e6, 1)} M requests (${round(seconds / 3600, 2)} h at ${rate}/s)`;
  return [
    {
      name: `scale: peak RSS, ${label}, log + writer + SLA engine`,
      value: round(r.peakRssMb, 1),
      unit: "MB",
      baseline: SCALE_RSS_BUDGET_MB,
      ratio: round(r.peakRssMb / SCALE_RSS_BUDGET_MB, 3),
    },
    {
      name: `scale: SLA analysis of ${label} from requests.bin`,
      value: round(r.analysisS),
      unit: "s",
      baseline: SCALE_ANALYSIS_BUDGET_S,
      ratio: round(r.analysisS / SCALE_ANALYSIS_BUDGET_S, 3),
    },
    {
      name: `scale: SLA analysis CPU time (user + system; ${r.passes} passes over the file)`,
      value: round(r.analysisCpuS),
      unit: "s",
      baseline: SCALE_ANALYSIS_BUDGET_S,
      ratio: round(r.analysisCpuS / SCALE_ANALYSIS_BUDGET_S, 3),
    },
    { name: `scale: generate and write ${label}`, value: round(r.writeS), unit: "s" },
    { name: `scale: requests.bin size, ${label}`, value: round(r.fileBytes / 1e6, 1), unit: "MB" },
    ...report.map((row) => ({ ...row, name: `scale: ${row.name}` })),
    ...(await generatorRows(options.generatorSeconds ?? 600, options.generatorRate ?? 1000)),
  ];
}

interface GeneratorResult {
  readonly rows: number;
  readonly achievedRate: number;
  readonly peakRssMb: number;
  readonly rssAfter1MinMb: number | null;
  readonly rssAtEndMb: number | null;
}

/** The load generator streaming requests.bin against the trivial server for a long run. */
async function generatorRows(seconds: number, rate: number): Promise<BenchRow[]> {
  const g = await runChild<GeneratorResult>("generator.ts", seconds, rate);
  const label = `${round(seconds / 60, 1)} min at ${rate} req/s, requests.bin streamed`;
  return [
    {
      name: `scale: generator peak RSS, ${label}`,
      value: round(g.peakRssMb, 1),
      unit: "MB",
      baseline: SCALE_RSS_BUDGET_MB,
      ratio: round(g.peakRssMb / SCALE_RSS_BUDGET_MB, 3),
    },
    {
      name: `scale: generator RSS after its first minute`,
      value: round(g.rssAfter1MinMb ?? NaN, 1),
      unit: "MB",
    },
    { name: `scale: generator RSS at the end of the run`, value: round(g.rssAtEndMb ?? NaN, 1), unit: "MB" },
    { name: `scale: generator achieved rate`, value: round(g.achievedRate, 1), unit: "req/s" },
  ];
}
