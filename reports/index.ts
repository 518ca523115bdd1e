import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunRecord } from "../harness/record/schema.js";
import { RENDERED_FORMATS, REPORT_FORMATS, type RenderedFormatName } from "./formats.js";
import { REPORT_FILES, writeRecordJson } from "./read.js";

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
