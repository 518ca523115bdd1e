import type { Command } from "commander";
import type { CommandContext, RunFlags } from "../context.js";
import { addFlags, RUN_FLAGS } from "../flags.js";

export function registerRunCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command("run")
    .description("run scenarios (files, or directories of .yaml files) and judge them against their SLOs")
    .argument("<paths...>", "scenario files or directories");
  addFlags(cmd, RUN_FLAGS).action(async (paths: string[], flags: RunFlags) => {
    ctx.setExit(await ctx.deps.runScenarios(paths, flags, ctx));
  });
}
