import { CommanderError } from "commander";
import type { FaultError, InvalidInputError, RunNotPossibleError } from "../../common/errors.js";

/**
 * The exit-code table, in one place (k6's errext/exitcodes). A CI job reads the verdict from
 * the exit code alone:
 *   0  every SLO of every scenario was met
 *   1  an SLO was missed (or a run aborted by an abort condition)
 *   2  invalid input: a scenario, flag or argument is wrong; nothing was started
 *   3  the run could not be carried out: the target would not start, steady state not met,
 *      a fault could not be injected, or faultline itself failed
 */
export const EXIT = {
  ok: 0,
  sloMissed: 1,
  invalidInput: 2,
  runNotPossible: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Which exit code each user-facing error kind maps to. */
type ErrorKind = InvalidInputError["kind"] | RunNotPossibleError["kind"] | FaultError["kind"];

const BY_ERROR_KIND: { readonly [K in ErrorKind]: ExitCode } = {
  "invalid-input": EXIT.invalidInput,
  "run-not-possible": EXIT.runNotPossible,
  fault: EXIT.runNotPossible,
};

/** Commander's own exits: help and version are successes, everything else is a usage error. */
const COMMANDER_OK = new Set(["commander.helpDisplayed", "commander.help", "commander.version"]);

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return COMMANDER_OK.has(error.code) ? EXIT.ok : EXIT.invalidInput;
  const kind = (error as { kind?: unknown } | null)?.kind;
  if (typeof kind === "string" && Object.hasOwn(BY_ERROR_KIND, kind)) return BY_ERROR_KIND[kind as ErrorKind];
  return EXIT.runNotPossible;
}

/** The worst of several scenario outcomes decides the suite's code: 3 > 2 > 1 > 0. */
export function worstExitCode(codes: readonly ExitCode[]): ExitCode {
  return codes.reduce<ExitCode>((worst, c) => (c > worst ? c : worst), EXIT.ok);
}
