import { readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { InvalidInputError } from "../../../common/errors.js";
import type { CommandContext } from "../context.js";
import { EXIT, type ExitCode } from "../exit-codes.js";
import { readRunRecord } from "../../record/io.js";
import type { RunRecord } from "../../record/schema.js";
import { loadScenarios } from "../../scenario/load.js";
import { collectClaims } from "../../claims/collect.js";
import { claimsGate, judgeClaim, type ClaimResult } from "../../claims/judge.js";
import { countVerdicts, renderClaimsPage } from "../../claims/render.js";

export interface ClaimsFlags {
  readonly dir: string;
  readonly out: string;
  readonly catalog: string;
  readonly runsDir: string;
  /** false (--no-run): judge the newest records already in runsDir. */
  readonly run: boolean;
}

export const CLAIMS_DEFAULTS = {
  dir: "scenarios/claims",
  out: "docs/claims.md",
  catalog: "docs/claims-catalog.md",
  runsDir: "runs/claims",
} as const;

export function registerClaimsCommand(program: Command, ctx: CommandContext): void {
  program
    .command("claims")
    .description(
      "run the write-ups' claims (scenarios/claims) and generate docs/claims.md; exit 1 when a claim not marked `expect: fail` is missed",
    )
    .option("--dir <dir>", "claims scenarios", CLAIMS_DEFAULTS.dir)
    .option("--out <file>", "page to generate", CLAIMS_DEFAULTS.out)
    .option(
      "--catalog <file>",
      "hand-written catalogue of every claim, included in the page",
      CLAIMS_DEFAULTS.catalog,
    )
    .option("--runs-dir <dir>", "directory for the run records", CLAIMS_DEFAULTS.runsDir)
    .option("--no-run", "do not run: judge the newest record of each scenario already in --runs-dir")
    .action(async (flags: ClaimsFlags) => {
      ctx.setExit(await runClaims(flags, ctx));
    });
}

/** The newest record of each scenario name in runsDir (directories without a record are skipped). */
async function newestRecords(runsDir: string): Promise<Map<string, RunRecord>> {
  const newest = new Map<string, RunRecord>();
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch {
    return newest;
  }
  for (const name of names) {
    let record: RunRecord;
    try {
      record = (await readRunRecord(join(runsDir, name))).record;
    } catch {
      continue;
    }
    const seen = newest.get(record.scenario.name);
    if (seen === undefined || record.startedAtMs > seen.startedAtMs) newest.set(record.scenario.name, record);
  }
  return newest;
}

async function readCatalog(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new InvalidInputError(
      [{ file, path: "", message: `cannot read: ${(e as Error).message}` }],
      "the hand-written catalogue of every claim is included in the generated page",
    );
  }
}

export async function runClaims(flags: ClaimsFlags, ctx: CommandContext): Promise<ExitCode> {
  const { rt } = ctx;
  const started = Date.now();
  const loaded = await loadScenarios([flags.dir], rt.cwd, ctx.deps.catalog);
  const entries = collectClaims(loaded);
  const catalogText = await readCatalog(resolve(rt.cwd, flags.catalog));
  const runsDir = resolve(rt.cwd, flags.runsDir);
  if (flags.run) {
    // The run's own exit code is not the verdict here: a claim expected to miss is a finding.
    await ctx.deps.runScenarios(
      [flags.dir],
      { runsDir, reports: false, progress: "lines", dashboard: false },
      ctx,
    );
  }
  const records = await newestRecords(runsDir);
  const results: ClaimResult[] = entries.map((e) => judgeClaim(e, records.get(e.scenarioName) ?? null));
  const command = flags.run ? "npm run claims" : `faultline claims --no-run --runs-dir ${flags.runsDir}`;
  const page = renderClaimsPage(
    results,
    {
      endedAt: new Date().toISOString(),
      wallMs: Date.now() - started,
      loadAverage: loadavg()[0] ?? 0,
      cores: cpus().length,
      command,
    },
    { file: flags.catalog, text: catalogText },
  );
  await writeFile(resolve(rt.cwd, flags.out), page);
  const c = countVerdicts(results);
  ctx.out.err(
    `claims: ${results.length} checked: ${c.met} met, ${c.missed} missed, ${c["expected-miss"]} missed as expected, ${c["unexpected-pass"]} met though expected to miss, ${c["not-run"]} not run; wrote ${flags.out}`,
  );
  for (const r of results)
    if (r.verdict === "missed" || r.verdict === "not-run" || r.verdict === "unexpected-pass")
      ctx.out.err(`  ${r.verdict}: ${r.entry.claim.id} (${r.entry.file}): ${r.measured.join("; ")}`);
  return claimsGate(results) ? EXIT.ok : EXIT.sloMissed;
}
