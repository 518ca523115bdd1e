import { readRunRecord as readRun, RUN_FILE, writeRunRecord } from "../harness/record/io.js";
import type { RunRecord } from "../harness/record/schema.js";

/**
 * File names inside a run directory (runs/<id>/). The record file is the harness's
 * (harness/record/io.ts owns reading and writing it); the rest are the reports'.
 */
export const REPORT_FILES = {
  json: RUN_FILE,
  html: "report.html",
  junit: "junit.xml",
  markdown: "summary.md",
  compareHtml: "compare.html",
  compareMarkdown: "compare.md",
} as const;

/**
 * Reads and schema-checks `RUN_DIR/run.json`; every problem comes back as one
 * InvalidInputError naming the file and each field.
 */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  return (await readRun(runDir)).record;
}

/** Writes the record through the harness's writer (validated, atomic). */
export async function writeRecordJson(runDir: string, record: RunRecord): Promise<void> {
  await writeRunRecord(runDir, record);
}
