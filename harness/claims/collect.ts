import { InvalidInputError, type InputIssue } from "../../common/errors.js";
import type { LoadedScenario } from "../scenario/load.js";
import type { ClaimSpec } from "../scenario/schema.js";

/** One write-up claim and the scenario file that checks it. */
export interface ClaimEntry {
  readonly claim: ClaimSpec;
  /** Scenario file, as loaded (relative to the working directory). */
  readonly file: string;
  readonly scenarioName: string;
  /** What judges it: SLO ids and steady-state check names (default: every SLO of the file). */
  readonly judgedBy: readonly string[];
}

/**
 * The claims of the loaded scenarios, in file order. Every scenario must carry a claim (a
 * claims directory holds nothing else), claim ids are unique across the suite, and every name
 * in `judgedBy` is an SLO id or a steady-state check name of its file: a claim judged by
 * nothing would read as met.
 */
export function collectClaims(loaded: readonly LoadedScenario[]): ClaimEntry[] {
  const issues: InputIssue[] = [];
  const entries: ClaimEntry[] = [];
  const ids = new Map<string, string>();
  for (const { file, scenario } of loaded) {
    if (scenario.claim === undefined) {
      issues.push({ file, path: "claim", message: "a claims scenario needs a claim block" });
      continue;
    }
    const claims = Array.isArray(scenario.claim) ? scenario.claim : [scenario.claim];
    const sloIds = scenario.slos.map((s) => s.id).filter((id): id is string => id !== undefined);
    const checkNames = [...scenario.steadyState.before, ...scenario.steadyState.after]
      .map((c) => c.name)
      .filter((n): n is string => n !== undefined);
    const known = new Set([...sloIds, ...checkNames]);
    claims.forEach((claim, i) => {
      const where = Array.isArray(scenario.claim) ? `claim.${i}` : "claim";
      const seen = ids.get(claim.id);
      if (seen !== undefined)
        issues.push({ file, path: `${where}.id`, message: `claim id "${claim.id}" is also used in ${seen}` });
      ids.set(claim.id, file);
      const judgedBy = claim.judgedBy ?? sloIds;
      if (judgedBy.length === 0)
        issues.push({ file, path: where, message: "nothing judges this claim", hint: "give the SLOs ids" });
      for (const name of judgedBy)
        if (!known.has(name))
          issues.push({
            file,
            path: `${where}.judgedBy`,
            message: `"${name}" is neither an SLO id nor a steady-state check name of this file`,
          });
      entries.push({ claim, file, scenarioName: scenario.name, judgedBy });
    });
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return entries;
}
