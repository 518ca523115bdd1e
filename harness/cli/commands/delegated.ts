import type { Command } from "commander";
import { journalDir } from "../../runner/journal-dir.js";
import type { CommandContext } from "../context.js";
import { addFlags, TOXIPROXY_FLAGS } from "../flags.js";
import type { ToxiproxyCommandOptions } from "./toxiproxy.js";
import { EXIT, type ExitCode } from "../exit-codes.js";

/** Commands implemented by other parts (reports, cleanup, reference service, Toxiproxy): parse, delegate, map the result. */
export function registerDelegated(program: Command, ctx: CommandContext): void {
  program
    .command("report")
    .description(
      "render the reports of a run again from its record (optionally compared with a baseline run)",
    )
    .argument("<runDir>", "a run directory, runs/<id>/")
    .option("--compare <baseRunDir>", "baseline run to compare against")
    .action(async (runDir: string, opts: { compare?: string }) => {
      await ctx.deps.report(runDir, opts.compare === undefined ? {} : { compare: opts.compare }, ctx.rt);
      ctx.setExit(EXIT.ok);
    });

  program
    .command("cleanup")
    .description("revert every fault a crashed or killed harness left behind (safe to run twice)")
    .option("--force", "also revert faults of a harness that is still running")
    .action(async (opts: { force?: boolean }) => ctx.setExit(await cleanup(ctx, opts.force ?? false)));

  program
    .command("serve-reference")
    .description("run the reference model service in the foreground (Ctrl-C drains and stops)")
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      "after",
      "\nService flags: --port N (0 = any), --state-dir DIR, --config FILE (JSON/YAML), and one\n" +
        "flag per config leaf, e.g. --breaker.failure-threshold 3 (see reference-service/config.ts).\n" +
        "Load/unload and breaker reset need 'Authorization: Bearer <token>' when FAULTLINE_ADMIN_TOKEN\n" +
        "(or --admin-token) is set; a non-loopback --host needs a token or --allow-non-loopback.\n",
    )
    .action(async (_opts: unknown, cmd: Command) => {
      ctx.setExit(clamp(await ctx.deps.serveReference(cmd.args, ctx.rt)));
    });

  const toxiproxy = program
    .command("toxiproxy")
    .description("run the embedded Toxiproxy-compatible server (a drop-in for toxiproxy-server)");
  addFlags(toxiproxy, TOXIPROXY_FLAGS).action(async (opts: ToxiproxyCommandOptions) => {
    ctx.setExit(clamp(await ctx.deps.toxiproxy(opts, ctx.rt)));
  });
}

function clamp(code: number): ExitCode {
  return code === 0 || code === 1 || code === 2 || code === 3 ? code : EXIT.runNotPossible;
}

async function cleanup(ctx: CommandContext, force: boolean): Promise<ExitCode> {
  const report = await ctx.deps.cleanup({
    journalDir: journalDir(ctx.rt),
    force,
    clock: ctx.rt.clock,
    env: ctx.rt.env,
  });
  if (report.items.length === 0) ctx.out.err(`cleanup: nothing to revert (${report.journalDir})`);
  for (const item of report.items) {
    const what = [item.kind, item.target && `on ${item.target}`, item.description && `(${item.description})`]
      .filter(Boolean)
      .join(" ");
    ctx.out.err(`cleanup: ${item.action}: ${what || item.file}${item.error ? `: ${item.error}` : ""}`);
  }
  const failed = report.items.filter((i) => i.action === "failed" || i.action === "unreadable").length;
  return failed === 0 ? EXIT.ok : EXIT.runNotPossible;
}
