import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Runtime } from "../common/runtime.js";
import type { RunRecord } from "../harness/record/schema.js";
import { compareRuns, type Comparison } from "./compare.js";
import { renderCompareHtml, renderCompareMarkdown } from "./compare-render.js";
import { RENDERED_FORMATS, REPORT_FORMATS, type RenderedFormatName } from "./formats.js";
import { renderMarkdown } from "./markdown.js";
import { readRunRecord, REPORT_FILES, writeRecordJson } from "./read.js";

/**
 * The reports' public API. Every renderer reads one run record (or several) and nothing
 * else: no target, no clock, no environment, so an old run re-renders identically.
 */
export { renderHtml } from "./html/page.js";
export { renderJunit } from "./junit.js";
export { renderMarkdown } from "./markdown.js";
export { compareRuns, COMPARE_THRESHOLDS, type Comparison, type Delta, type DeltaStatus } from "./compare.js";
export { renderCompareHtml, renderCompareMarkdown } from "./compare-render.js";
export { readRunRecord, REPORT_FILES } from "./read.js";
export { REPORT_FORMATS, renderedFormats, type ReportFormatName } from "./formats.js";

export interface ReportPaths {
  readonly html: string;
  readonly junit: string;
  readonly markdown: string;
  readonly json: string;
}

export interface WriteReportsOptions {
  /** Write run.json too (default true); false when the harness already wrote it, or to keep an old run's file. */
  readonly json?: boolean;
  /** Rendered formats to write (default all of them; see formats.ts). */
  readonly formats?: readonly RenderedFormatName[];
}

/**
 * Writes the rendered formats asked for (default: report.html, junit.xml, summary.md) and
 * (unless told not to) run.json into runDir, creating it. The returned paths name every
 * format's file whether or not it was written this time.
 */
export async function writeReports(
  runDir: string,
  record: RunRecord,
  options: WriteReportsOptions = {},
): Promise<ReportPaths> {
  const paths: ReportPaths = {
    html: join(runDir, REPORT_FILES.html),
    junit: join(runDir, REPORT_FILES.junit),
    markdown: join(runDir, REPORT_FILES.markdown),
    json: join(runDir, REPORT_FILES.json),
  };
  if (options.json ?? true) await writeRecordJson(runDir, record);
  else await mkdir(runDir, { recursive: true });
  const formats = options.formats ?? RENDERED_FORMATS;
  await Promise.all(formats.map((f) => writeFile(paths[f], REPORT_FORMATS[f].render(record))));
  return paths;
}

export interface ComparePaths {
  readonly html: string;
  readonly markdown: string;
}

export interface ReportCommandOptions {
  /** Baseline run directory to compare the run against. */
  readonly compare?: string;
}

export interface ReportCommandResult {
  readonly record: RunRecord;
  readonly paths: ReportPaths;
  readonly comparison: Comparison | null;
  readonly comparePaths: ComparePaths | null;
}

/**
 * `faultline report RUN_DIR [--compare BASELINE_DIR]`: re-renders the run's reports from its
 * run.json (left untouched) and, with a baseline, writes compare.html and compare.md next
 * to them. The Markdown (the comparison's, if any) goes to stdout so it can be appended to
 * GITHUB_STEP_SUMMARY; file paths go to stderr. Bad directories or records throw
 * InvalidInputError; choosing the exit code (e.g. on verdict or regressions) is the caller's.
 */
export async function reportCommand(
  runDir: string,
  options: ReportCommandOptions,
  runtime: Runtime,
): Promise<ReportCommandResult> {
  const dir = resolve(runtime.cwd, runDir);
  const record = await readRunRecord(dir);
  const base =
    options.compare === undefined ? null : await readRunRecord(resolve(runtime.cwd, options.compare));
  const paths = await writeReports(dir, record, { json: false });
  let comparison: Comparison | null = null;
  let comparePaths: ComparePaths | null = null;
  let stdout = renderMarkdown([record]);
  if (base) {
    comparison = compareRuns(base, record);
    comparePaths = {
      html: join(dir, REPORT_FILES.compareHtml),
      markdown: join(dir, REPORT_FILES.compareMarkdown),
    };
    stdout = renderCompareMarkdown(comparison);
    await Promise.all([
      writeFile(comparePaths.html, renderCompareHtml(comparison)),
      writeFile(comparePaths.markdown, stdout),
    ]);
  }
  const written = [
    paths.html,
    paths.junit,
    paths.markdown,
    ...(comparePaths ? [comparePaths.html, comparePaths.markdown] : []),
  ];
  runtime.stderr.write(written.map((p) => `wrote ${p}\n`).join(""));
  runtime.stdout.write(stdout);
  return { record, paths, comparison, comparePaths };
}
