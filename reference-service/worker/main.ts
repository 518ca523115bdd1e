/**
 * Model worker entry (spawn contract in ipc/protocol.ts):
 *   node worker/main.js --state-dir DIR --config JSON
 * Exit codes: 0 after a clean SIGTERM/SIGINT drain, 2 bad command line or config, 1 fatal.
 */
import { systemClock } from "../../common/clock.js";
import { parseWorkerArgs } from "./args.js";
import { startWorker } from "./run.js";

async function main(): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2));
  if (!args.ok) {
    process.stderr.write(`worker: ${args.message}\n`);
    process.exit(2);
  }
  // Last line of defence: a stray rejection is a bug to log, not a reason to kill every
  // request in flight (per-request failures are already error events).
  process.on("unhandledRejection", (e) => {
    process.stderr.write(
      `worker: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  });
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
