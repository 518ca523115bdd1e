import type { RunRecord, SloResult } from "../harness/record/schema.js";
import { answerAgainOf, fullServiceOf, recordLevels, worstOf } from "../harness/record/levels.js";
import { escapeMarkdown as md } from "./escape.js";
import { formatMargin, formatMs, formatRatio, formatValue } from "./format.js";
import { availabilityBasisText, retriesText } from "./retries.js";

/**
 * A compact verdict table for a pull-request comment or GITHUB_STEP_SUMMARY: one row per run,
 * then, per run that missed any, its missed SLOs with by how much; a run whose load honoured
 * Retry-After gets one line on its retries and on how the availability column counted them,
 * and a run that received alerts (scenario `alerts`) one line per firing or resolved alert.
 * GitHub-flavoured Markdown; every record string is escaped so a scenario name cannot break
 * the table.
 */

export function verdictEmoji(verdict: RunRecord["verdict"]): string {
  switch (verdict) {
    case "pass":
      return "\u2705 pass";
    case "fail":
      return "\u274c fail";
    case "aborted":
      return "\u26a0\ufe0f aborted";
    case "void":
      return "\u26aa void";
    default: {
      const never: never = verdict;
      return never;
    }
  }
}

/** The slowest recovery among the run's faults; "never" if one did not recover. */
export function worstRecovery(record: RunRecord): string {
  if (record.faults.length === 0) return "\u2013";
  if (record.faults.some((f) => !f.recovered || f.timeToRecoverMs === null)) return "never";
  return formatMs(Math.max(...record.faults.map((f) => f.timeToRecoverMs ?? 0)));
}

/**
 * The worst per-fault time at one level: "–" without faults, "never" if one never got there,
 * "n/a" when an older record does not say (as the availability columns do).
 */
export function worstAt(record: RunRecord, pick: typeof answerAgainOf): string {
  const w = worstOf(record, pick);
  if (w === "not recorded") return "n/a";
  return w === "none" ? "\u2013" : w === "never" ? "never" : formatMs(w);
}

/** Inside a table even a code span needs its pipes escaped (GFM); a backtick would end it. */
function codeSpan(text: string): string {
  return `\`${text
    .replace(/`/g, "'")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n|\r/g, " ")}\``;
}

function row(record: RunRecord): string {
  const met = record.slos.filter((s) => s.passed).length;
  const cells = [
    md(record.scenario.name),
    verdictEmoji(record.verdict),
    `${met}/${record.slos.length}`,
    formatRatio(recordLevels(record).answered.availability),
    formatRatio(recordLevels(record).full.availability),
    formatMs(record.latency.intended.p99),
    worstAt(record, answerAgainOf),
    worstAt(record, fullServiceOf),
    codeSpan(record.id),
  ];
  return `| ${cells.join(" | ")} |`;
}

function missedLine(slo: SloResult): string {
  const by =
    slo.margin === null
      ? "not measured"
      : `missed by ${formatMargin(Math.abs(slo.margin), slo.unit).slice(1)}`;
  return `- ${md(slo.description)}: measured ${formatValue(slo.measured, slo.unit)}, bound ${md(slo.comparator)} ${formatValue(slo.bound, slo.unit)}, ${by}`;
}

/** One line for a load that honoured Retry-After and a headline counting final attempts; null for neither. */
function retriesNote(record: RunRecord): string | null {
  const retries = retriesText(record);
  const basis = availabilityBasisText(record);
  const parts = [
    retries === null ? null : `${retries}.`,
    basis === null ? null : `Availability counts ${basis}.`,
  ].filter((p): p is string => p !== null);
  return parts.length === 0 ? null : `- ${md(parts.join(" "))}`;
}

/** The alerts the run received (firing and resolved), as the event list records them. */
function alertLines(record: RunRecord): string[] {
  return record.events
    .filter((e) => e.kind === "alert")
    .map((e) => `- alert at ${formatMs(e.tMs)}: ${md(e.message)}`);
}

function runNotes(record: RunRecord): string | null {
  const missed = record.slos.filter((s) => !s.passed);
  const reason =
    record.status === "completed"
      ? null
      : `- run ${record.status}: ${md(record.statusReason ?? "no reason recorded")}`;
  const retries = retriesNote(record);
  const alerts = alertLines(record);
  if (missed.length === 0 && reason === null && retries === null && alerts.length === 0) return null;
  const lines = [reason, retries, ...missed.map(missedLine), ...alerts].filter(
    (l): l is string => l !== null,
  );
  return `**${md(record.scenario.name)}** (${verdictEmoji(record.verdict)}):\n${lines.join("\n")}`;
}

export function renderMarkdown(records: readonly RunRecord[]): string {
  const passed = records.filter((r) => r.verdict === "pass").length;
  const head = `### faultline: ${passed} of ${records.length} ${records.length === 1 ? "run" : "runs"} passed`;
  const table = [
    "| Scenario | Verdict | SLOs met | Answered | Full service | P99 | Worst time to answer again | Worst time to full service | Run |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...records.map(row),
  ].join("\n");
  const notes = records.map(runNotes).filter((n): n is string => n !== null);
  return [head, table, ...notes].join("\n\n") + "\n";
}
