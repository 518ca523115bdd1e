import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { InvalidInputError } from "../../../common/errors.js";
import type { CommandContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { loadScenarios } from "../../scenario/load.js";
import { exportK6Script } from "../../k6/export.js";

/** Formats `faultline export` can write, one row each. */
const EXPORTERS = { k6: exportK6Script } as const;

/**
 * `faultline export k6 SCENARIO [-o FILE]`: the scenario as a k6 script (stdout, or FILE).
 * Registered by the CLI program with one call; nothing here touches a target.
 */
export function registerExportCommand(program: Command, ctx: CommandContext): void {
  program
    .command("export")
    .description("write a scenario for another tool: `export k6 FILE` writes a typed k6 script")
    .argument("<format>", `one of: ${Object.keys(EXPORTERS).join(", ")}`)
    .argument("<file>", "scenario file")
    .option("-o, --out <file>", "write to this file instead of stdout")
    .action(async (format: string, file: string, opts: { out?: string }) => {
      if (!(format in EXPORTERS))
        throw new InvalidInputError([
          {
            path: "format",
            message: `unknown export format "${format}"`,
            hint: `one of: ${Object.keys(EXPORTERS).join(", ")}`,
          },
        ]);
      const [loaded] = await loadScenarios([file], ctx.rt.cwd, ctx.deps.catalog);
      if (!loaded) return;
      const text = EXPORTERS[format as keyof typeof EXPORTERS](loaded.scenario);
      if (opts.out) {
        await writeFile(resolve(ctx.rt.cwd, opts.out), text);
        ctx.out.err(`wrote ${opts.out} (k6 run --out json=points.json ${opts.out})`);
      } else ctx.out.out(text);
      ctx.setExit(EXIT.ok);
    });
}
