import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough } from "node:stream";
import { ManualClock } from "../../../common/clock.js";
import type { Runtime } from "../../../common/runtime.js";
import { nodeArgsFor } from "../../../common/spawn-module.js";

/**
 * The real CLI as a process. Tests run from sources, so the entry is harness/cli/main.ts run
 * through tsx (common/spawn-module resolves the .js URL to the .ts sibling); `npm run chaos`
 * runs the same module built into dist/.
 */
export const CLI_ENTRY = new URL("../../../harness/cli/main.js", import.meta.url);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a running child (for signal tests); stdout and stderr are pipes. */
export function spawnCliProcess(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string> },
): ChildProcess {
  const nodeArgs = nodeArgsFor(CLI_ENTRY);
  return spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, FAULTLINE_DEBUG: "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Sends `signal` to the CLI once its stderr shows `marker` (e.g. "fault-injected"); resolves
 * with its exit code.
 */
export async function signalWhen(
  child: ChildProcess,
  marker: string,
  signal: NodeJS.Signals,
): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let stderr = "";
  await new Promise<void>((resolve) =>
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(marker)) resolve();
    }),
  );
  child.kill(signal);
  return exited;
}

export function spawnCli(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCliProcess(args, {
      cwd: opts.cwd ?? process.cwd(),
      ...(opts.env ? { env: opts.env } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`CLI ${args.join(" ")} did not exit in time\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A Runtime whose stdio are captured strings, for in-process runs of the CLI program. */
export function captureRuntime(
  cwd: string,
  env: Record<string, string | undefined> = {},
): Runtime & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  return {
    clock: new ManualClock(1_700_000_000_000),
    env,
    cwd,
    stdout,
    stderr,
    stdin: new PassThrough(),
    onSignal: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}
