import type { Command } from "commander";
import type { Runtime } from "../../../common/runtime.js";
import type { CommandContext } from "../context.js";
import type { ExitCode } from "../exit-codes.js";

type Delegate = (argv: readonly string[], rt: Runtime) => Promise<number>;

interface PassthroughSpec {
  readonly name: string;
  readonly usage: string;
  readonly description: string;
  readonly delegate: Delegate | undefined;
}

/**
 * Commands whose parsing belongs to the part that implements them (reports, cleanup, the
 * reference service, the embedded Toxiproxy): the CLI hands them the raw arguments, including
 * --help, and returns their exit code.
 */
export function registerPassthrough(
  program: Command,
  ctx: CommandContext,
  specs: readonly PassthroughSpec[],
): void {
  for (const spec of specs) {
    const delegate = spec.delegate;
    if (!delegate) continue;
    program
      .command(spec.name)
      .usage(spec.usage)
      .description(spec.description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument("[args...]")
      .action(async (args: string[]) => {
        ctx.setExit((await delegate(args, ctx.rt)) as ExitCode);
      });
  }
}

export function passthroughSpecs(ctx: CommandContext): PassthroughSpec[] {
  const d = ctx.deps;
  return [
    {
      name: "report",
      usage: "RUN_DIR [--compare BASE_RUN_DIR]",
      description: "render the reports of a run record again",
      delegate: d.report,
    },
    {
      name: "cleanup",
      usage: "[options]",
      description: "revert every fault a crashed harness left behind (safe to run twice)",
      delegate: d.cleanup,
    },
    {
      name: "serve-reference",
      usage: "[options]",
      description: "run the reference model service in the foreground",
      delegate: d.serveReference,
    },
    {
      name: "toxiproxy",
      usage: "[--host 127.0.0.1] [--port 8474]",
      description: "run the embedded Toxiproxy-compatible server",
      delegate: d.toxiproxy,
    },
  ];
}
