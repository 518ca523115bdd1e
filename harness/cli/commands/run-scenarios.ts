import { appendFile } from "node:fs/promises";
import { relative } from "node:path";
import type { CommandContext, RunFlags } from "../context.js";
import { EXIT, exitCodeFor, worstExitCode, type ExitCode } from "../exit-codes.js";
import type { RunRecord } from "../../record/schema.js";
import { loadScenarios, type LoadedScenario } from "../../scenario/load.js";
import { journalDir } from "../../runner/journal-dir.js";
import { Progress } from "../../runner/progress.js";
import { runScenario } from "../../runner/run-scenario.js";
import { writeScenarioReports } from "./scenario-reports.js";
import { exitCodeOf, formatSummary } from "./run-summary.js";
import { dashboardWanted } from "../../dashboard/wanted.js";

interface Row {
  name: string;
  record: RunRecord | null;
  runDir: string | null;
  error?: string;
}

/**
 * `faultline run FILE|DIR...`: every file is validated before anything starts (one invalid
 * file: exit 2, nothing run); then the scenarios run one after another; the worst verdict is
 * the exit code. SIGINT/SIGTERM stop the current scenario (faults reverted, record written)
 * and skip the rest.
 */
export async function runScenarios(
  paths: readonly string[],
  flags: RunFlags,
  ctx: CommandContext,
): Promise<ExitCode> {
  const { rt } = ctx;
  const loaded = (await loadScenarios(paths, rt.cwd, ctx.deps.catalog)).map((l) => withSeed(l, flags.seed));
  // The dashboard needs a terminal on both ends; progress lines would tear its screen.
  const screen = dashboardWanted(rt, flags.dashboard);
  const progress = new Progress((line) => rt.stderr.write(line), flags.progress !== "none" && !screen);
  const interrupt = new AbortController();
  const offs = (["SIGINT", "SIGTERM"] as const).map((sig) =>
    rt.onSignal(sig, () => {
      if (!interrupt.signal.aborted)
        ctx.out.err(`faultline: ${sig}: reverting faults and writing the record`);
      interrupt.abort(new Error(sig));
    }),
  );
  const rows: Row[] = [];
  const codes: ExitCode[] = [];
  try {
    for (const l of loaded) {
      if (interrupt.signal.aborted) break;
      const dashboard = screen
        ? { stop: () => interrupt.abort(new Error("q")), abort: () => interrupt.abort(new Error("a")) }
        : undefined;
      const row = await runOne(l, flags, ctx, progress, interrupt.signal, dashboard);
      rows.push(row.row);
      codes.push(row.code);
    }
  } finally {
    for (const off of offs) off();
  }
  ctx.out.err(`\n${formatSummary(rows)}`);
  await appendStepSummary(ctx, rows);
  return interrupt.signal.aborted ? worstExitCode([...codes, EXIT.sloMissed]) : worstExitCode(codes);
}

async function runOne(
  l: LoadedScenario,
  flags: RunFlags,
  ctx: CommandContext,
  progress: Progress,
  interrupt: AbortSignal,
  dashboard: { stop: () => void; abort: () => void } | undefined,
): Promise<{ row: Row; code: ExitCode }> {
  const name = l.scenario.name;
  try {
    const { record, runDir } = await runScenario(l, {
      rt: ctx.rt,
      version: ctx.deps.version,
      ...(flags.runsDir === undefined ? {} : { runsDir: flags.runsDir }),
      journalDir: journalDir(ctx.rt),
      progress,
      interrupt,
      ...(dashboard ? { dashboard } : {}),
    });
    if (flags.reports) await writeScenarioReports(runDir, record, l.scenario.reporting.formats);
    const shown = relative(ctx.rt.cwd, runDir) || runDir;
    progress.line(name, `${record.verdict.toUpperCase()} (${shown})`);
    return { row: { name, record, runDir: shown }, code: exitCodeOf(record) };
  } catch (e) {
    ctx.out.error(e);
    return {
      row: {
        name,
        record: null,
        runDir: null,
        error: e instanceof Error ? e.message.split("\n")[0] : String(e),
      },
      code: exitCodeFor(e),
    };
  }
}

function withSeed(l: LoadedScenario, seed: number | undefined): LoadedScenario {
  return seed === undefined ? l : { ...l, scenario: { ...l.scenario, seed } };
}

/** GitHub Actions: the Markdown summary of every run goes to the job's summary page. */
async function appendStepSummary(ctx: CommandContext, rows: readonly Row[]): Promise<void> {
  const file = ctx.rt.env.GITHUB_STEP_SUMMARY;
  const records = rows.map((r) => r.record).filter((r): r is RunRecord => r !== null);
  if (!file || records.length === 0) return;
  const { renderMarkdown } = await import("../../../reports/index.js");
  await appendFile(file, `${renderMarkdown(records)}\n`);
}
