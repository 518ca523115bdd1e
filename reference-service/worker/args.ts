/** The worker's command line (spawn contract in ipc/protocol.ts), parsed without side effects. */
import { parseArgs } from "node:util";
import { workerConfigSchema, type WorkerConfig } from "../ipc/protocol.js";

export type ParsedWorkerArgs =
  | {
      ok: true;
      stateDir: string;
      config: WorkerConfig;
      /** --standby: load, then wait for "start" on stdin before touching the state dir (main.ts). */
      standby?: true;
    }
  | { ok: false; message: string };

export function parseWorkerArgs(argv: readonly string[]): ParsedWorkerArgs {
  let values: { "state-dir"?: string; config?: string; standby?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "state-dir": { type: "string" },
        config: { type: "string" },
        standby: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  const stateDir = values["state-dir"];
  if (!stateDir) return { ok: false, message: "--state-dir DIR is required" };
  let json: unknown = {};
  try {
    if (values.config !== undefined) json = JSON.parse(values.config);
  } catch (e) {
    return { ok: false, message: `--config is not valid JSON: ${(e as Error).message}` };
  }
  const parsed = workerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${["config", ...i.path].join(".")}: ${i.message}`);
    return { ok: false, message: issues.join("\n") };
  }
  return { ok: true, stateDir, config: parsed.data, ...(values.standby === true ? { standby: true } : {}) };
}
