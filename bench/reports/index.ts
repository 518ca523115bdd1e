import type { BenchRow } from "../row.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "@playwright/test";
import { renderHtml, renderJunit, renderMarkdown } from "../../reports/index.js";
import { CHROMIUM_LAUNCH } from "../../playwright.config.js";
import { bigRecord } from "./big-record.js";

export type { BenchRow } from "../row.js";

export interface ReportBenchOptions {
  /** Run length in seconds (acceptance: 3600) at `rate` req/s (acceptance: 200). */
  readonly seconds?: number;
  readonly rate?: number;
  /** Page loads timed; the median is reported. */
  readonly loads?: number;
}

/** Acceptance budgets (issue 6): the report stays under 5 MB and opens in under 2 s. */
const SIZE_BUDGET_MB = 5;
const LOAD_BUDGET_MS = 2000;

function row(name: string, value: number, unit: string, baseline?: number): BenchRow {
  const rounded = Math.round(value * 100) / 100;
  if (baseline === undefined) return { name, value: rounded, unit };
  return { name, value: rounded, unit, baseline, ratio: Math.round((value / baseline) * 1000) / 1000 };
}

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Opens the file offline `loads` times, each in a fresh page, and returns load times in ms. */
async function loadTimes(file: string, loads: number): Promise<number[]> {
  const browser = await chromium.launch({ headless: true, ...CHROMIUM_LAUNCH });
  try {
    const times: number[] = [];
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      await context.route("**/*", (r) => (r.request().url().startsWith("file:") ? r.continue() : r.abort()));
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
      // First paint of the whole page: layout and SVG rasterised, not just parsed.
      await page.screenshot({ fullPage: false });
      times.push(performance.now() - t0);
      await context.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}

export async function runReportBenchmarks(options: ReportBenchOptions = {}): Promise<BenchRow[]> {
  const seconds = options.seconds ?? 3600;
  const rate = options.rate ?? 200;
  const record = bigRecord({ seconds, rate, faults: 4 });
  const label = `${seconds / 3600} h at ${rate} req/s`;
  const t0 = performance.now();
  const html = renderHtml(record);
  const renderMs = performance.now() - t0;
  const t1 = performance.now();
  renderJunit([record]);
  renderMarkdown([record]);
  const otherMs = performance.now() - t1;
  const dir = await mkdtemp(join(tmpdir(), "faultline-bench-report-"));
  try {
    const file = join(dir, "report.html");
    await writeFile(file, html);
    const loads = await loadTimes(file, options.loads ?? 3);
    return [
      row(`report.html size (${label})`, Buffer.byteLength(html) / 1e6, "MB", SIZE_BUDGET_MB),
      row(
        `report.html open in Chromium, median of ${loads.length} (${label})`,
        median(loads),
        "ms",
        LOAD_BUDGET_MS,
      ),
      row(`renderHtml (${label})`, renderMs, "ms"),
      row(`renderJunit + renderMarkdown (${label})`, otherMs, "ms"),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
