import type { RunRecord, SloResult } from "../../record/schema.js";
import { answerAgainOf, fullServiceOf, recordLevels, worstOf } from "../../record/levels.js";
import { marginText, msText, pct, valueText } from "../../record/slo-text.js";
import { EXIT, type ExitCode } from "../exit-codes.js";

export function exitCodeOf(record: RunRecord): ExitCode {
  switch (record.verdict) {
    case "pass":
      return EXIT.ok;
    case "fail":
    case "aborted":
      return EXIT.sloMissed;
    case "void":
      return EXIT.runNotPossible;
    default: {
      const never: never = record.verdict;
      return never;
    }
  }
}

/** "availability >= 99.9%: measured 99.2%, missed by 0.7 pp" */
export function describeMiss(s: SloResult): string {
  if (s.measured === null) return `${s.description}: not measured`;
  const by = s.margin === null ? "" : `, missed by ${marginText(s, Math.abs(s.margin))}`;
  return `${s.description}: measured ${valueText(s, s.measured)}${by}`;
}

const worstText = (w: ReturnType<typeof worstOf>): string =>
  w === "none" ? "-" : w === "never" ? "never" : w === "not recorded" ? "n/a" : msText(w);

/** The final table on stderr: one row per scenario, then every missed SLO by how much. */
export function formatSummary(
  rows: readonly { name: string; record: RunRecord | null; runDir: string | null; error?: string }[],
): string {
  // Both levels side by side (DESIGN.md "Two levels of truth"): answered counts fallback
  // answers, full counts only the primary model's; the worst times per scenario likewise.
  const header = [
    "scenario",
    "verdict",
    "answered",
    "full service",
    "p99",
    "worst answer again",
    "worst full service",
    "run",
  ];
  const body = rows.map((r) =>
    r.record
      ? [
          r.name,
          r.record.verdict.toUpperCase(),
          pct(recordLevels(r.record).answered.availability),
          pct(recordLevels(r.record).full.availability),
          msText(r.record.latency.intended.p99),
          worstText(worstOf(r.record, answerAgainOf)),
          worstText(worstOf(r.record, fullServiceOf)),
          r.runDir ?? "-",
        ]
      : [r.name, "ERROR", "-", "-", "-", "-", "-", r.error ?? "-"],
  );
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? "").length)));
  const lines = all.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  for (const r of rows) {
    if (!r.record) continue;
    if (r.record.statusReason) lines.push(`${r.name}: ${r.record.status}: ${r.record.statusReason}`);
    for (const s of r.record.slos.filter((x) => !x.passed))
      lines.push(`${r.name}: missed ${describeMiss(s)}`);
    for (const c of [...r.record.steadyState.before, ...r.record.steadyState.after].filter(
      (x) => !x.passed,
    )) {
      lines.push(`${r.name}: steady-state check failed: ${c.name}: ${c.detail}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
