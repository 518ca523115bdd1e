import type { Runtime } from "../../common/runtime.js";
import type { CleanupOptions, CleanupReport } from "../faults/cleanup.js";
import type { ToxiproxyCommandOptions } from "./commands/toxiproxy.js";
import type { FaultCatalog } from "../scenario/catalog.js";
import type { ExitCode } from "./exit-codes.js";
import type { Output } from "./output.js";

/**
 * What the CLI's commands depend on, injected by main.ts (the only module that imports the
 * implementations), so the program can be assembled in tests with parts swapped out.
 */
export interface CliDeps {
  readonly version: string;
  readonly catalog: FaultCatalog;
  readonly runScenarios: (
    paths: readonly string[],
    flags: RunFlags,
    ctx: CommandContext,
  ) => Promise<ExitCode>;
  readonly report: (runDir: string, options: { compare?: string }, rt: Runtime) => Promise<unknown>;
  readonly cleanup: (options: CleanupOptions) => Promise<CleanupReport>;
  readonly serveReference: (argv: readonly string[], rt: Runtime) => Promise<number>;
  readonly toxiproxy: (options: ToxiproxyCommandOptions, rt: Runtime) => Promise<number>;
}

/** Flags of `faultline run`, declared once (flags.ts) and type-checked against this. */
export interface RunFlags {
  readonly runsDir?: string;
  readonly seed?: number;
  readonly reports: boolean;
  readonly progress: "auto" | "lines" | "none";
  /** Live dashboard when both stdin and stdout are a terminal. */
  readonly dashboard: boolean;
}

export interface CommandContext {
  readonly rt: Runtime;
  readonly out: Output;
  readonly deps: CliDeps;
  /** The command's verdict; the last one set is the process exit code. */
  setExit(code: ExitCode): void;
}
