/**
 * The user-facing error family. Every error a user can cause or fix carries a hint; the CLI
 * prints message + hint (never a stack) and maps the class to an exit code in one table
 * (harness/cli/exit-codes.ts); the reference service maps errors to HTTP status in one
 * function (reference-service/api/errors.ts).
 */
export abstract class FaultlineError extends Error {
  abstract readonly kind: string;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem with user input, located by a path such as `faults[2].duration`. */
export interface InputIssue {
  readonly file?: string;
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

/** Invalid scenario, flag, config or parameter. Carries every issue found, not only the first. */
export class InvalidInputError extends FaultlineError {
  readonly kind = "invalid-input";
  constructor(
    readonly issues: readonly InputIssue[],
    hint?: string,
  ) {
    super(issues.map(formatIssue).join("\n"), hint);
  }
}

export function formatIssue(issue: InputIssue): string {
  const where = [issue.file, issue.path || "(root)"].filter(Boolean).join(": ");
  return `${where}: ${issue.message}${issue.hint ? ` (fix: ${issue.hint})` : ""}`;
}

export const isInvalidInputError = (e: unknown): e is InvalidInputError => e instanceof InvalidInputError;

/** The run could not be carried out: target would not start, steady state not met, etc. */
export class RunNotPossibleError extends FaultlineError {
  readonly kind = "run-not-possible";
}

export const isRunNotPossibleError = (e: unknown): e is RunNotPossibleError =>
  e instanceof RunNotPossibleError;

/** A fault could not be injected or reverted. */
export class FaultError extends FaultlineError {
  readonly kind = "fault";
}

export const isFaultError = (e: unknown): e is FaultError => e instanceof FaultError;
