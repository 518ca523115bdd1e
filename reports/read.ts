import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError, type InputIssue } from "../common/errors.js";
import { RUN_RECORD_VERSION, runRecordSchema, type RunRecord } from "../harness/record/schema.js";

/** File names inside a run directory (runs/<id>/) that the reports read and write. */
export const REPORT_FILES = {
  json: "record.json",
  html: "report.html",
  junit: "junit.xml",
  markdown: "summary.md",
  compareHtml: "compare.html",
  compareMarkdown: "compare.md",
} as const;

const RUN_DIR_HINT = "pass a run directory written by `faultline run` (runs/<id>/), which holds record.json";

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
}

/** Parses and schema-checks a run record, reporting every problem with its field path. */
export function parseRunRecord(text: string, file: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new InvalidInputError([
      { file, path: "", message: `not valid JSON: ${message}`, hint: RUN_DIR_HINT },
    ]);
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== RUN_RECORD_VERSION) {
    throw new InvalidInputError([
      {
        file,
        path: "schemaVersion",
        message: `run record version ${JSON.stringify(version)} is not supported (this faultline reads version ${RUN_RECORD_VERSION})`,
        hint: "re-run the scenario with this faultline, or render it with the faultline that wrote it",
      },
    ]);
  }
  const parsed = runRecordSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues: InputIssue[] = parsed.error.issues.map((i) => ({
    file,
    path: i.path.map(String).join("."),
    message: i.message,
  }));
  throw new InvalidInputError(issues, "the run record is damaged or was not written by faultline");
}

/** Reads `RUN_DIR/record.json`. */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  const file = join(runDir, REPORT_FILES.json);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = errnoCode(e);
    const message =
      code === "ENOENT" ? "no run record here" : `cannot read the run record (${code ?? String(e)})`;
    throw new InvalidInputError([{ file, path: "", message, hint: RUN_DIR_HINT }]);
  }
  return parseRunRecord(text, file);
}
