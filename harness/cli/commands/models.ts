import type { Command } from "commander";
import { resolve } from "node:path";
import { InvalidInputError } from "../../../common/errors.js";
import { referenceModelCache } from "../../targets/reference/service.js";
import type { CommandContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

const SIZES = ["tiny", "small", "medium"] as const;
type Size = (typeof SIZES)[number];

/**
 * `faultline models generate [--size S] [--seed N] [--output FILE] [--state-dir DIR]`: writes a
 * seeded llama-architecture GGUF the real engine (engine: llama) loads. The writer is imported
 * only when the command runs.
 */
export function registerModelsCommand(program: Command, ctx: CommandContext): void {
  const models = program.command("models").description("models for the reference service's real engine");
  models
    .command("generate")
    .description(
      "write a seeded llama-architecture GGUF model (random weights, real compute) and print where",
    )
    .option("--size <size>", `model size: ${SIZES.join(", ")}`, "tiny")
    .option("--seed <n>", "weights and vocabulary seed (an integer 0..2^32-1)", "1")
    .option("--output <file>", "write here instead of <state-dir>/models/<name>-<hash>.gguf")
    .option("--state-dir <dir>", "cache directory root", ".faultline")
    .addHelpText(
      "after",
      "\nSizes: tiny ~0.6 MB (64 wide, 2 layers, F32), small ~46 MB (512 wide, 8 layers, F16),\n" +
        "medium ~420 MB (1024 wide, 12 layers, F16). Same size and seed give the same bytes; a cached\n" +
        'file is reused while its SHA-256 still matches. Prints {"path","sha256","bytes","cached"} on stdout.\n' +
        "Exit codes: 0 written or cached, 2 bad flag.\n",
    )
    .action(async (opts: { size: string; seed: string; output?: string; stateDir: string }) => {
      const size = parseSize(opts.size);
      const seed = parseSeed(opts.seed);
      const { generateModel, modelsDir } = await referenceModelCache();
      const dir = modelsDir(resolve(ctx.rt.cwd, opts.stateDir));
      const m = await generateModel({
        size,
        seed,
        dir,
        ...(opts.output !== undefined ? { output: resolve(ctx.rt.cwd, opts.output) } : {}),
      });
      ctx.rt.stdout.write(
        `${JSON.stringify({ path: m.path, sha256: m.sha256, bytes: m.bytes, cached: m.cached })}\n`,
      );
      ctx.setExit(EXIT.ok);
    });
}

function parseSize(s: string): Size {
  const size = SIZES.find((x) => x === s);
  if (size === undefined)
    throw new InvalidInputError([
      { path: "--size", message: `unknown size "${s}"`, hint: `one of: ${SIZES.join(", ")}` },
    ]);
  return size;
}

function parseSeed(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw new InvalidInputError([
      { path: "--seed", message: `expected an integer 0..4294967295, found "${s}"`, hint: "e.g. --seed 7" },
    ]);
  return n;
}
