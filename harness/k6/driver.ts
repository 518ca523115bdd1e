import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import { RunNotPossibleError } from "../../common/errors.js";
import { resolveExecutable, withParentDeathSignal } from "../../common/parent-death.js";
import { killChild } from "../../common/safe-kill.js";
import { compileLoadPlan, intendedTimes } from "../load/plan.js";
import type { Scenario } from "../scenario/schema.js";
import { exportK6Script } from "./export.js";
import { readK6PointsFile } from "./points.js";
import { K6RowCollector, parseK6Summary, type K6Requests, type K6Summary } from "./summary.js";

/**
 * `load.driver: k6`: k6 sends the load instead of the built-in generator while faultline
 * injects faults and measures. The exported script runs with `--out json`, and its points
 * are read back as the run record's per-request rows.
 *
 * k6 exit codes (k6 errext/exitcodes): 0 passed, 99 thresholds failed (a verdict, not an
 * error here: faultline judges the SLOs itself); anything else means k6 could not run.
 */
export const K6_THRESHOLDS_FAILED = 99;

export interface K6RunOptions {
  /** Where the load goes; the script reads it from FAULTLINE_BASE_URL. */
  readonly baseUrl: string;
  /** Directory for the script, the points file and the summary (the run's directory). */
  readonly dir: string;
  /** Environment of the k6 process; its PATH is searched for `k6`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

export interface K6LoadResult {
  readonly exitCode: number;
  readonly thresholdsFailed: boolean;
  readonly requests: K6Requests;
  /** null when k6 ended before handleSummary wrote it. */
  readonly summary: K6Summary | null;
  readonly files: { readonly script: string; readonly points: string; readonly summary: string };
}

/** The first executable `name` in a PATH string, or null. */
export function findOnPath(name: string, pathEnv: string | undefined): Promise<string | null> {
  return Promise.resolve(resolveExecutable(name, pathEnv ?? ""));
}

/** Install page named in the refusal. */
export const K6_INSTALL_URL = "https://grafana.com/docs/k6/latest/set-up/install-k6/";

/**
 * The k6 binary, or a refusal. Not an input error (exit 3, not 2): the scenario is valid and
 * runs where k6 is installed; this machine cannot carry it out, as with a target that will not
 * start. One line, naming the field and both fixes, since it is all a user needs to act.
 */
export async function requireK6(env: K6RunOptions["env"]): Promise<string> {
  const k6 = await findOnPath("k6", env.PATH);
  if (k6 !== null) return k6;
  throw new RunNotPossibleError(
    `load.driver: k6 needs the k6 binary on PATH and none was found (fix: install k6, ${K6_INSTALL_URL}, or remove load.driver to use the built-in load generator)`,
  );
}

async function runProcess(k6: string, args: readonly string[], opts: K6RunOptions): Promise<number> {
  // k6 exits with a SIGKILLed harness too (targets/parent-death.ts).
  const [file, argv] = withParentDeathSignal(k6, args, opts.env.PATH);
  const child = spawn(file, argv, { cwd: opts.dir, env: opts.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
  const abort = (): void => void killChild(child, "SIGINT");
  opts.signal?.addEventListener("abort", abort, { once: true });
  try {
    const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    // Killed by a signal: the shell's convention, 128 + its number (130 for SIGINT).
    const exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
    if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_FAILED && !opts.signal?.aborted)
      throw new RunNotPossibleError(
        `k6 exited with ${code ?? signal}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`,
        "run the exported script by hand (`faultline export k6 SCENARIO`) to see k6's full output",
      );
    return exitCode;
  } finally {
    opts.signal?.removeEventListener("abort", abort);
  }
}

/**
 * k6's output streamed into rows. k6 stopped while it was still starting (compiling the script)
 * writes no output: that run sent nothing, so an interrupted run reads as empty. Without an
 * interrupt a missing file means k6 did not do what it was asked.
 */
async function readRows(
  file: string,
  interrupted: boolean,
  intended: ArrayLike<number>,
): Promise<K6Requests> {
  const rows = new K6RowCollector();
  try {
    await readK6PointsFile(file, (p) => rows.add(p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    if (!interrupted)
      throw new RunNotPossibleError(
        `k6 exited without writing its output (${file})`,
        "run the exported script by hand (`faultline export k6 SCENARIO`) to see k6's full output",
      );
  }
  return rows.result({ intended });
}

export async function runK6Load(scenario: Scenario, opts: K6RunOptions): Promise<K6LoadResult> {
  const k6 = await requireK6(opts.env);
  const files = {
    script: join(opts.dir, "k6-script.ts"),
    points: join(opts.dir, "k6-points.json"),
    summary: join(opts.dir, "k6-summary.json"),
  };
  await writeFile(files.script, exportK6Script(scenario));
  const args = [
    "run",
    "--quiet",
    "--out",
    `json=${files.points}`,
    "-e",
    `FAULTLINE_BASE_URL=${opts.baseUrl}`,
    "-e",
    `FAULTLINE_SUMMARY=${files.summary}`,
    files.script,
  ];
  const exitCode = await runProcess(k6, args, opts);
  // k6 sends on its evenly spaced schedule, so the intended times are the constant plan's.
  const plan = compileLoadPlan({ ...scenario.load, seed: scenario.seed, arrivals: "constant" });
  const requests = await readRows(files.points, opts.signal?.aborted === true, intendedTimes(plan));
  const summaryText = await readFile(files.summary, "utf8").catch(() => null);
  return {
    exitCode,
    thresholdsFailed: exitCode === K6_THRESHOLDS_FAILED,
    requests,
    summary: summaryText === null ? null : parseK6Summary(summaryText, files.summary),
    files,
  };
}
