import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../../common/errors.js";
import type { RequestColumns } from "../sla/columns.js";
import { validateRunRecord } from "./build.js";
import { decodeRequests, encodeRequests, REQUESTS_FILE } from "./requests-file.js";
import { RUN_RECORD_VERSION, type RunRecord } from "./schema.js";

export const RUN_FILE = "run.json";

/** Writes atomically (temp file + rename) so a reader never sees half a file. */
async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Writes `run.json` and, when columns are given, `requests.bin` into `runDir` (created if
 * needed). The record is validated first and its `requestsFile` set to what was written;
 * the record as written is returned.
 */
export async function writeRunRecord(
  runDir: string,
  record: RunRecord,
  requests?: RequestColumns | { readonly writtenTo: string },
): Promise<RunRecord> {
  const final = validateRunRecord({
    ...record,
    requestsFile: requests ? REQUESTS_FILE : record.requestsFile,
  });
  await mkdir(runDir, { recursive: true });
  if (requests && "writtenTo" in requests) {
    // Streamed during the run (harness/record/requests-stream.ts): move it in place if needed.
    const target = path.join(runDir, REQUESTS_FILE);
    if (path.resolve(requests.writtenTo) !== path.resolve(target)) await rename(requests.writtenTo, target);
  } else if (requests) await writeAtomic(path.join(runDir, REQUESTS_FILE), encodeRequests(requests));
  await writeAtomic(path.join(runDir, RUN_FILE), `${JSON.stringify(final, null, 2)}\n`);
  return final;
}

export interface LoadedRun {
  readonly record: RunRecord;
  /** Reads the per-request file the record names; null when it names none. */
  requests(): Promise<RequestColumns | null>;
}

/** Reads and validates `runDir/run.json`; problems come back as InvalidInputError naming the file and field. */
export async function readRunRecord(runDir: string): Promise<LoadedRun> {
  const file = path.join(runDir, RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InvalidInputError(
      [{ file, path: "", message: code === "ENOENT" ? "no run record here" : `cannot read: ${String(e)}` }],
      "pass the directory of one run, e.g. runs/20261123T171553Z-kill-worker",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError([{ file, path: "", message: `not valid JSON: ${(e as Error).message}` }]);
  }
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== RUN_RECORD_VERSION) {
    throw new InvalidInputError(
      [
        {
          file,
          path: "schemaVersion",
          message: `version ${String(version)} is not supported (this faultline reads ${RUN_RECORD_VERSION})`,
        },
      ],
      "re-render with the faultline version that wrote the run",
    );
  }
  const record = validateRunRecord(value, file);
  return { record, requests: () => readRequests(runDir, record) };
}

async function readRequests(runDir: string, record: RunRecord): Promise<RequestColumns | null> {
  if (record.requestsFile === null) return null;
  const file = path.join(runDir, record.requestsFile);
  try {
    return decodeRequests(await readFile(file));
  } catch (e) {
    throw new InvalidInputError([{ file, path: "", message: (e as Error).message }]);
  }
}
