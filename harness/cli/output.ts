import { formatIssue, isInvalidInputError, type FaultlineError } from "../../common/errors.js";
import type { Runtime } from "../../common/runtime.js";

/** Human output goes to stderr, machine output (JSON, plans, schema) to stdout (autocannon's split). */
export class Output {
  constructor(private readonly rt: Runtime) {}

  out(text: string): void {
    this.rt.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  err(text: string): void {
    this.rt.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  get debug(): boolean {
    return this.rt.env.FAULTLINE_DEBUG === "1";
  }

  /** Prints an error the way users see it: message and hint, never a stack unless debugging. */
  error(e: unknown): void {
    if (isInvalidInputError(e)) {
      const n = e.issues.length;
      this.err(`faultline: invalid input (${n} problem${n === 1 ? "" : "s"}):`);
      for (const issue of e.issues) this.err(`  ${formatIssue(issue)}`);
      if (e.hint) this.err(`hint: ${e.hint}`);
    } else if (isFaultlineError(e)) {
      this.err(`faultline: ${e.message}`);
      if (e.hint) this.err(`hint: ${e.hint}`);
    } else {
      const message = e instanceof Error ? e.message : String(e);
      this.err(
        `faultline: unexpected error: ${message.split("\n")[0] ?? ""} (run with FAULTLINE_DEBUG=1 for the stack)`,
      );
    }
    if (this.debug && e instanceof Error && e.stack) this.err(e.stack);
  }
}

function isFaultlineError(e: unknown): e is FaultlineError {
  return e instanceof Error && typeof (e as { kind?: unknown }).kind === "string" && "hint" in e;
}
