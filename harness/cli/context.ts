import type { Runtime } from "../../common/runtime.js";
import type { FaultCatalog } from "../scenario/catalog.js";
import type { ExitCode } from "./exit-codes.js";
import type { Output } from "./output.js";

/**
 * What the CLI's commands depend on, injected by main.ts. Commands owned by other parts
 * (report, cleanup, serve-reference, toxiproxy) are optional so the CLI can be assembled and
 * tested with only some of them.
 */
export interface CliDeps {
  readonly version: string;
  readonly catalog: FaultCatalog;
  readonly runScenarios?: (
    paths: readonly string[],
    flags: RunFlags,
    ctx: CommandContext,
  ) => Promise<ExitCode>;
  readonly report?: (argv: readonly string[], rt: Runtime) => Promise<number>;
  readonly cleanup?: (argv: readonly string[], rt: Runtime) => Promise<number>;
  readonly serveReference?: (argv: readonly string[], rt: Runtime) => Promise<number>;
  readonly toxiproxy?: (argv: readonly string[], rt: Runtime) => Promise<number>;
}

/** Flags of `faultline run`, declared once (flags.ts) and type-checked against this. */
export interface RunFlags {
  readonly runsDir?: string;
  readonly seed?: number;
  readonly reports: boolean;
  readonly progress: "auto" | "lines" | "none";
}

export interface CommandContext {
  readonly rt: Runtime;
  readonly out: Output;
  readonly deps: CliDeps;
  /** The command's verdict; the last one set is the process exit code. */
  setExit(code: ExitCode): void;
}
