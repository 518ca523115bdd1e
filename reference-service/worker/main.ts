/**
 * Model worker entry (spawn contract in ipc/protocol.ts):
 *   node worker/main.js --state-dir DIR --config JSON [--standby]
 * Exit codes: 0 after a clean SIGTERM/SIGINT drain, 2 bad command line or config, 1 fatal.
 *
 * --standby (the supervisor's warm spare, supervisor.standby): the process loads its modules and
 * checks its config, then waits for a line on stdin before it starts. Until then it writes
 * nothing (no pid file, no heartbeat, no spool); stdin's end (the API went away or dropped the
 * spare) ends it with 0. Starting a spare costs a write instead of Node's start and the module
 * loading, most of a restart's time.
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
  if (args.standby && !(await startSignal())) process.exit(0);
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

/** Resolves true at the first line on stdin, false when stdin ends or fails first. */
function startSignal(): Promise<boolean> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const done = (go: boolean): void => {
      stdin.removeListener("data", onData);
      stdin.removeListener("end", onEnd);
      stdin.removeListener("error", onEnd);
      // Nothing more is read: the pipe must neither keep the process alive nor end it later.
      stdin.destroy();
      resolve(go);
    };
    const onData = (chunk: Buffer): void => {
      if (chunk.includes(0x0a)) done(true);
    };
    const onEnd = (): void => done(false);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onEnd);
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`worker: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
