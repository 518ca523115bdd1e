import type { Runtime } from "../../common/runtime.js";

/**
 * Whether `faultline run` shows the live dashboard. Kept apart from the ink modules so the
 * runner can decide without loading them (they are imported only when a screen is shown).
 */
export function dashboardWanted(rt: Pick<Runtime, "stdout" | "stdin" | "env">, enabled: boolean): boolean {
  // ink draws only the last frame when CI is set (is-in-ci), so a CI job with a terminal gets
  // the plain progress lines instead of a screen that stays blank until the end.
  const inCi = rt.env.CI !== undefined && rt.env.CI !== "false" && rt.env.CI !== "0";
  return enabled && !inCi && rt.stdout.isTTY === true && rt.stdin.isTTY === true;
}
