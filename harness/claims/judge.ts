import type { RunRecord } from "../record/schema.js";
import { marginText, valueText } from "../record/slo-text.js";
import type { ClaimEntry } from "./collect.js";

/**
 * met / missed: what the run measured. expected-miss: missed, and the claim is marked
 * `expect: fail` (a known finding). unexpected-pass: marked `expect: fail` but met.
 * not-run: no completed record for its scenario (it gates like a miss).
 */
export type ClaimVerdict = "met" | "missed" | "expected-miss" | "unexpected-pass" | "not-run";

export interface ClaimResult {
  readonly entry: ClaimEntry;
  readonly verdict: ClaimVerdict;
  /** One text per judge: "availability >= 99.9%: 99.950%". */
  readonly measured: readonly string[];
  /** One text per judge: "+0.05 pp" (passing side) or "-1.2 s" (short by). */
  readonly margin: readonly string[];
}

interface Judgement {
  readonly passed: boolean;
  readonly measured: string;
  readonly margin: string;
}

function judgeOne(name: string, record: RunRecord): Judgement {
  // An SLO scoped to every fault is judged once per occurrence (`id/fault`): all must pass.
  const slos = record.slos.filter((s) => s.id === name || s.id.startsWith(`${name}/`));
  if (slos.length > 0) {
    const passed = slos.every((s) => s.passed);
    const measured = slos
      .map((s) => `${s.description}: ${s.measured === null ? "not measured" : valueText(s, s.measured)}`)
      .join("; ");
    const margin = slos
      .map((s) =>
        s.margin === null ? "-" : `${s.margin < 0 ? "-" : "+"}${marginText(s, Math.abs(s.margin))}`,
      )
      .join("; ");
    return { passed, measured, margin };
  }
  const checks = [...record.steadyState.before, ...record.steadyState.after].filter((c) => c.name === name);
  if (checks.length > 0)
    return {
      passed: checks.every((c) => c.passed),
      measured: checks.map((c) => `${c.name}: ${c.detail}`).join("; "),
      margin: "-",
    };
  return { passed: false, measured: `${name}: not in the run record`, margin: "-" };
}

/** Judges a claim from its scenario's record (null: the scenario did not complete). */
export function judgeClaim(entry: ClaimEntry, record: RunRecord | null): ClaimResult {
  if (record === null || record.status !== "completed")
    return {
      entry,
      verdict: "not-run",
      measured: [
        record === null ? "no run record" : `run ${record.status}: ${record.statusReason ?? ""}`.trim(),
      ],
      margin: [],
    };
  const judged = entry.judgedBy.map((name) => judgeOne(name, record));
  const met = judged.every((j) => j.passed);
  const expectFail = entry.claim.expect === "fail";
  const verdict: ClaimVerdict = met
    ? expectFail
      ? "unexpected-pass"
      : "met"
    : expectFail
      ? "expected-miss"
      : "missed";
  return { entry, verdict, measured: judged.map((j) => j.measured), margin: judged.map((j) => j.margin) };
}

/** Gates: a missed or unrun claim fails the command; expected misses and unexpected passes do not. */
export function claimsGate(results: readonly ClaimResult[]): boolean {
  return results.every((r) => r.verdict !== "missed" && r.verdict !== "not-run");
}
