import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Runtime } from "../../../common/runtime.js";
import type { RunRecord } from "../../record/schema.js";
import {
  compareRuns,
  readRunRecord,
  renderCompareHtml,
  renderCompareMarkdown,
  renderMarkdown,
  REPORT_FILES,
  writeReports,
  type Comparison,
  type ReportPaths,
} from "../../../reports/index.js";

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
