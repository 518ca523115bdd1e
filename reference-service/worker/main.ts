/**
 * Model worker entry (spawn contract in ipc/protocol.ts):
 *   node worker/main.js --state-dir DIR --config JSON
 * Exit codes: 0 after a clean SIGTERM/SIGINT drain, 2 bad command line or config, 1 fatal.
 */
import { parseArgs } from "node:util";
import { systemClock } from "../../common/clock.js";
import { workerConfigSchema, type WorkerConfig } from "../ipc/protocol.js";
import { startWorker } from "./run.js";

type Parsed = { ok: true; stateDir: string; config: WorkerConfig } | { ok: false; message: string };

export function parseWorkerArgs(argv: readonly string[]): Parsed {
  let values: { "state-dir"?: string; config?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { "state-dir": { type: "string" }, config: { type: "string" } },
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
    const issues = parsed.error.issues.map((i) => `config.${i.path.join(".")}: ${i.message}`);
    return { ok: false, message: issues.join("\n") };
  }
  return { ok: true, stateDir, config: parsed.data };
}

async function main(): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2));
  if (!args.ok) {
    process.stderr.write(`worker: ${args.message}\n`);
    process.exit(2);
  }
  const worker = await startWorker(args.stateDir, args.config, systemClock);
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(1); // a second signal forces the exit
    stopping = true;
    void worker.shutdown().then(() => process.exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((e: unknown) => {
  process.stderr.write(`worker: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
