import type { RunRecord } from "../harness/record/schema.js";
import type { ReportingSpec } from "../harness/scenario/schema.js";
import { renderHtml } from "./html/page.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { REPORT_FILES } from "./read.js";

/** A format a scenario can list in `reporting.formats`. */
export type ReportFormatName = ReportingSpec["formats"][number];

export interface ReportFormat {
  /** File name inside the run directory. */
  readonly file: string;
  /** Renders one run record; pure, so an old run re-renders identically. */
  readonly render: (record: RunRecord) => string;
}

/**
 * Every rendered output, one row each: adding a format is a renderer file plus a row here (and
 * its name in the scenario schema's `reporting.formats`, which `satisfies` below keeps in step).
 * `json` has no row: run.json is the run record itself, which the harness always writes because
 * every other output, and `faultline report`, is rendered from it.
 */
export const REPORT_FORMATS = {
  html: { file: REPORT_FILES.html, render: (record) => renderHtml(record) },
  junit: { file: REPORT_FILES.junit, render: (record) => renderJunit([record]) },
  markdown: { file: REPORT_FILES.markdown, render: (record) => renderMarkdown([record]) },
} as const satisfies Record<Exclude<ReportFormatName, "json">, ReportFormat>;

export type RenderedFormatName = keyof typeof REPORT_FORMATS;

export const RENDERED_FORMATS = Object.keys(REPORT_FORMATS) as RenderedFormatName[];

/** The rendered formats a `reporting.formats` list asks for, in table order. */
export function renderedFormats(formats: readonly ReportFormatName[]): RenderedFormatName[] {
  return RENDERED_FORMATS.filter((name) => formats.includes(name));
}
