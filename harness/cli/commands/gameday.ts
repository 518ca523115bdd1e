import { relative } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { InvalidInputError } from "../../../common/errors.js";
import type { Runtime } from "../../../common/runtime.js";
import { dashboardWanted } from "../../dashboard/wanted.js";
import { formatDuration, parseDuration } from "../../scenario/duration.js";
import { loadScenarios, type LoadedScenario } from "../../scenario/load.js";
import { writeScenarioReports } from "./scenario-reports.js";
import { runDurationMs } from "../../scenario/plan.js";
import type { CommandContext } from "../context.js";
import type { ExitCode } from "../exit-codes.js";
import { addFlags, RUN_FLAGS } from "../flags.js";

/** Flags of `faultline gameday` (declared once below, type-checked against this). */
export interface GamedayFlags {
  readonly runsDir?: string;
  readonly seed?: number;
  readonly reports: boolean;
  /** Hard bound on the session (ms); undefined: DEFAULT_MAX_DURATION_MS. */
  readonly maxDuration?: number;
}

/** A game day is a working session, not a soak test: 4 h keeps a forgotten one bounded. */
export const DEFAULT_MAX_DURATION_MS = 4 * 3_600_000;

function durationArg(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0)
    throw new InvalidArgumentError(`expected a duration such as "2h", found "${value}"`);
  return ms;
}

const GAMEDAY_FLAGS = {
  runsDir: RUN_FLAGS.runsDir,
  seed: { ...RUN_FLAGS.seed, description: "override the scenario's seed" },
  reports: RUN_FLAGS.reports,
  maxDuration: {
    flags: "--max-duration <duration>",
    description: `stop on its own after this long (default ${formatDuration(DEFAULT_MAX_DURATION_MS)})`,
    parse: durationArg,
  },
};

const HELP_AFTER = `
The load holds the file's last rate with no planned end; the file's fault timeline still fires
at its times, and faults picked with f are recorded like any other. q or Ctrl-C (or SIGTERM)
ends the session: faults rolled back, after-checks run, the SLOs judged over the time that ran,
the record written. a aborts (verdict aborted). Needs a terminal on stdin and stdout, without CI
set; for an unattended run with a planned end use \`faultline run FILE\`.
`;

export function registerGamedayCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("gameday")
    .description("run one scenario with no planned end, steered from the live dashboard (needs a terminal)")
    .argument("<file>", "scenario file")
    .addHelpText("after", HELP_AFTER);
  addFlags<GamedayFlags>(cmd, GAMEDAY_FLAGS).action(async (file: string, flags: GamedayFlags) => {
    ctx.setExit(await runGameday(file, flags, ctx));
  });
}

/** Why this process cannot hold a game day (null: it can): the dashboard is the only way to steer it. */
export function gamedayScreenProblem(
  rt: Pick<Runtime, "stdout" | "stdin" | "env">,
): InvalidInputError | null {
  const hint = "run it in a terminal; for an unattended run with a planned end use `faultline run FILE`";
  if (rt.stdout.isTTY !== true)
    return new InvalidInputError(
      [{ path: "stdout", message: "not a terminal: a game day is steered from the live dashboard" }],
      hint,
    );
  if (rt.stdin.isTTY !== true)
    return new InvalidInputError(
      [{ path: "stdin", message: "not a terminal: the keys q, a, f and p are read from it" }],
      hint,
    );
  if (!dashboardWanted(rt, true))
    return new InvalidInputError(
      [{ path: "CI", message: `set (CI=${rt.env.CI ?? ""}): the live dashboard is off under CI` }],
      "unset it for this command, e.g. `env -u CI faultline gameday FILE`",
    );
  return null;
}

async function loadOne(file: string, flags: GamedayFlags, ctx: CommandContext): Promise<LoadedScenario> {
  const all = await loadScenarios([file], ctx.rt.cwd, ctx.deps.catalog);
  const [loaded] = all;
  if (all.length !== 1 || loaded === undefined)
    throw new InvalidInputError([
      {
        path: "<file>",
        message: `expected one scenario file, found ${all.length}`,
        hint: "name one .yaml file",
      },
    ]);
  const scenario = flags.seed === undefined ? loaded.scenario : { ...loaded.scenario, seed: flags.seed };
  const scripted = runDurationMs(scenario.load);
  const max = flags.maxDuration ?? DEFAULT_MAX_DURATION_MS;
  if (max < scripted)
    throw new InvalidInputError([
      {
        path: "--max-duration",
        message: `${formatDuration(max)} is shorter than the file's load (${formatDuration(scripted)})`,
        hint: `give at least ${formatDuration(scripted)}, or shorten load.duration`,
      },
    ]);
  return { ...loaded, scenario };
}

/**
 * `faultline gameday FILE`: one scenario with no planned end, steered from the dashboard. The
 * runner's openEnded option makes q / Ctrl-C / SIGTERM the session's end (judged, exit code by
 * verdict) and `a` an abort; --max-duration bounds it.
 */
export async function runGameday(file: string, flags: GamedayFlags, ctx: CommandContext): Promise<ExitCode> {
  const { rt } = ctx;
  const refusal = gamedayScreenProblem(rt);
  if (refusal) throw refusal;
  const loaded = await loadOne(file, flags, ctx);
  const [{ runScenario }, { Progress }, { journalDir }, { exitCodeOf, formatSummary }] = await Promise.all([
    import("../../runner/run-scenario.js"),
    import("../../runner/progress.js"),
    import("../../runner/journal-dir.js"),
    import("./run-summary.js"),
  ]);
  const interrupt = new AbortController();
  let aborted = false;
  const end = (why: string): void => {
    if (!interrupt.signal.aborted) interrupt.abort(new Error(why));
  };
  const offs = (["SIGINT", "SIGTERM"] as const).map((sig) => rt.onSignal(sig, () => end(sig)));
  try {
    const { record, runDir } = await runScenario(loaded, {
      rt,
      version: ctx.deps.version,
      ...(flags.runsDir === undefined ? {} : { runsDir: flags.runsDir }),
      journalDir: journalDir(rt),
      // Progress lines on stderr would tear the dashboard's screen; the summary follows it.
      progress: new Progress(() => undefined, false),
      interrupt: interrupt.signal,
      dashboard: {
        stop: () => end("q"),
        abort: () => {
          aborted ||= !interrupt.signal.aborted;
          end("a");
        },
      },
      openEnded: { maxDurationMs: flags.maxDuration ?? DEFAULT_MAX_DURATION_MS, aborted: () => aborted },
    });
    if (flags.reports) await writeScenarioReports(runDir, record, loaded.scenario.reporting.formats);
    const shown = relative(rt.cwd, runDir) || runDir;
    ctx.out.err(`\n${formatSummary([{ name: loaded.scenario.name, record, runDir: shown }])}`);
    return exitCodeOf(record);
  } finally {
    for (const off of offs) off();
  }
}
