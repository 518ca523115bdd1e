import type { RunRecord } from "../../record/schema.js";
import type { ReportingSpec } from "../../scenario/schema.js";

/** The rendered formats the scenario's `reporting.formats` lists; run.json is already written. */
export async function writeScenarioReports(
  runDir: string,
  record: RunRecord,
  formats: ReportingSpec["formats"],
): Promise<void> {
  const reports = await import("../../../reports/index.js");
  const rendered = reports.renderedFormats(formats);
  if (rendered.length > 0) await reports.writeReports(runDir, record, { json: false, formats: rendered });
}
