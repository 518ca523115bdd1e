import { Command } from "commander";
import type { Runtime } from "../../common/runtime.js";
import { registerClaimsCommand } from "./commands/claims.js";
import { registerExportCommand } from "./commands/export.js";
import { registerDelegated } from "./commands/delegated.js";
import { registerGamedayCommand } from "./commands/gameday.js";
import { registerImagesCommand } from "./commands/images.js";
import { registerModelsCommand } from "./commands/models.js";
import { registerRunCommand } from "./commands/run.js";
import { registerScenarioCommands } from "./commands/scenario-commands.js";
import type { CliDeps, CommandContext } from "./context.js";
import { EXIT, exitCodeFor, type ExitCode } from "./exit-codes.js";
import { Output } from "./output.js";

function buildProgram(ctx: CommandContext): Command {
  const program = new Command("faultline")
    .description("chaos and SLA testing for model-serving services; the exit code is the verdict")
    .version(ctx.deps.version)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => ctx.rt.stdout.write(s),
      writeErr: (s) => ctx.rt.stderr.write(s),
      outputError: (s, write) => write(`faultline: ${s.replace(/^error: /, "")}`),
    })
    .addHelpText(
      "after",
      "\nExit codes: 0 all SLOs met, 1 an SLO missed, 2 invalid input, 3 the run could not be carried out.\n",
    );
  registerRunCommand(program, ctx);
  registerGamedayCommand(program, ctx);
  registerScenarioCommands(program, ctx);
  registerDelegated(program, ctx);
  registerExportCommand(program, ctx);
  registerImagesCommand(program, ctx);
  registerClaimsCommand(program, ctx);
  registerModelsCommand(program, ctx);
  return program;
}

/** Parses argv, runs one command, returns the exit code. Never throws; never prints a stack unless FAULTLINE_DEBUG=1. */
export async function run(argv: readonly string[], rt: Runtime, deps: CliDeps): Promise<ExitCode> {
  const out = new Output(rt);
  let code: ExitCode = EXIT.ok;
  const ctx: CommandContext = { rt, out, deps, setExit: (c) => (code = c) };
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.invalidInput;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    // Commander has already printed its own usage errors; ours are printed here.
    if (!(e instanceof Error && e.name === "CommanderError")) out.error(e);
    return exitCodeFor(e);
  }
}
