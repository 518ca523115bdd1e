import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import type { Command } from "commander";
import { formatDuration } from "../../scenario/duration.js";
import { formatPlan } from "../../scenario/format-plan.js";
import { loadScenarios } from "../../scenario/load.js";
import { buildPlan } from "../../scenario/plan.js";
import { scenarioJsonSchema } from "../../scenario/schema.js";
import type { CommandContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

/** validate, plan, schema and list: commands that read scenarios or the registry and touch no target. */
export function registerScenarioCommands(program: Command, ctx: CommandContext): void {
  program
    .command("validate")
    .description("check scenario files without running them (exit 0 valid, 2 invalid)")
    .argument("<files...>", "scenario files or directories")
    .action(async (files: string[]) => {
      const loaded = await loadScenarios(files, ctx.rt.cwd, ctx.deps.catalog);
      for (const { file, scenario: s } of loaded) {
        const plan = buildPlan(s);
        ctx.out.err(
          `ok  ${file}: ${s.name}, ${formatDuration(plan.durationMs)}, ${plan.faults.length} fault occurrence(s), ${s.slos.length} SLO(s)`,
        );
      }
      ctx.setExit(EXIT.ok);
    });

  program
    .command("plan")
    .description("print the timeline of load stages and faults without touching the target")
    .argument("<file>", "scenario file")
    .option("--json", "print the plan as JSON")
    .action(async (file: string, opts: { json?: boolean }) => {
      const [loaded] = await loadScenarios([file], ctx.rt.cwd, ctx.deps.catalog);
      if (!loaded) return;
      const plan = buildPlan(loaded.scenario);
      ctx.out.out(opts.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      ctx.setExit(EXIT.ok);
    });

  program
    .command("schema")
    .description("print the scenario JSON Schema (for editors), or write it with --out")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (opts: { out?: string }) => {
      const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
      if (opts.out) await writeFile(resolve(ctx.rt.cwd, opts.out), text);
      else ctx.out.out(text);
      ctx.setExit(EXIT.ok);
    });

  program
    .command("list")
    .description("list the fault kinds, their targets and parameters")
    .option("--json", "print as JSON (parameters as JSON Schema)")
    .action((opts: { json?: boolean }) => {
      ctx.out.out(opts.json ? JSON.stringify(listKinds(ctx), null, 2) : formatKinds(ctx));
      ctx.setExit(EXIT.ok);
    });
}

interface KindListing {
  readonly kind: string;
  readonly summary: string;
  readonly targets: readonly string[];
  readonly params: Record<string, unknown>;
}

function listKinds(ctx: CommandContext): KindListing[] {
  return Object.values(ctx.deps.catalog)
    .map((k) => ({
      kind: k.kind,
      summary: k.summary,
      targets: k.targets,
      params: paramsSchema(k.params),
    }))
    .sort((a, b) => a.kind.localeCompare(b.kind));
}

function paramsSchema(schema: z.ZodType<unknown>): Record<string, unknown> {
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
    return rest;
  } catch {
    return {};
  }
}

function formatKinds(ctx: CommandContext): string {
  const lines: string[] = [];
  for (const k of listKinds(ctx)) {
    lines.push(`${k.kind}  (targets: ${k.targets.join(", ")})`, `  ${k.summary}`);
    const props = (k.params.properties ?? {}) as Record<
      string,
      { type?: string; enum?: unknown[]; description?: string; default?: unknown }
    >;
    const required = new Set((k.params.required ?? []) as string[]);
    for (const [name, p] of Object.entries(props)) {
      const def = p.default === undefined ? "" : ` = ${JSON.stringify(p.default)}`;
      const req = required.has(name) && p.default === undefined ? " (required)" : "";
      lines.push(
        `    ${name}: ${p.enum ? p.enum.map(String).join("|") : (p.type ?? "value")}${def}${req}${p.description ? `  ${p.description}` : ""}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
