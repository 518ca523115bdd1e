import { formatDuration } from "./duration.js";
import type { Plan } from "./plan.js";

const rate = (r: number): string => `${+r.toFixed(2)} req/s`;
const span = (start: number, end: number | null): string =>
  end === null ? formatDuration(start) : `${formatDuration(start)}-${formatDuration(end)}`;

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** The plan as `faultline plan` prints it: load stages, then the fault timeline. */
export function formatPlan(plan: Plan): string {
  const lines = [
    `scenario ${plan.scenario}: ${formatDuration(plan.durationMs)}, about ${plan.plannedRequests} requests, seed ${plan.seed}`,
    "",
    "load",
    ...table(
      plan.stages.map((s) => [
        `  ${span(s.startMs, s.endMs)}`,
        s.ramp && s.fromRate !== s.toRate ? `${rate(s.fromRate)} -> ${rate(s.toRate)}` : rate(s.toRate),
      ]),
    ),
    "",
    "faults",
  ];
  if (plan.faults.length === 0) lines.push("  (none)");
  else
    lines.push(
      ...table([
        ["  at", "id", "kind", "target", "holds"],
        ...plan.faults.map((f) => [
          `  ${span(f.startMs, f.endMs)}`,
          f.id,
          f.kind,
          f.target,
          f.endMs === null ? "instant" : formatDuration(f.endMs - f.startMs),
        ]),
      ]),
    );
  return `${lines.join("\n")}\n`;
}
