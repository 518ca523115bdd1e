import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { fsyncDir, writeFileAtomic } from "../atomic-file.js";
import type { FaultContext, Injector } from "../injector.js";
import { faultsDirOf } from "../ipc-manifest.js";
import { occurrenceIdOf } from "../occurrence.js";

export const MODEL_CORRUPTION_MODES = ["header", "tensor-data", "truncate"] as const;

const params = z.strictObject({
  /**
   * header: seeded random bytes over the first `bytes` bytes (the GGUF magic, version and counts);
   * tensor-data: seeded random bytes at a seeded offset in the file's second half, where the
   * weights are (GGUF has no checksum: llama.cpp loads this silently, only a hash notices);
   * truncate: the file cut to `keepFraction` of its size.
   */
  mode: z.enum(MODEL_CORRUPTION_MODES),
  /** The model file; relative paths are under the target's state directory. Default: the only
   * `.gguf` in `<stateDir>/models` (where the service writes models it generates). */
  file: z.string().min(1).optional(),
  bytes: z
    .number()
    .int()
    .positive()
    .max(16 * 1024 * 1024)
    .default(4096),
  keepFraction: z.number().gt(0).lt(1).default(0.5),
});
type Params = z.infer<typeof params>;
/** Where the original bytes are kept: revert and `faultline cleanup` restore from here alone. */
type State = { file: string; dir: string };

const BACKUP = "original.gguf";
const META = "model-file.json";

/** The model file a fault aims at: `file` (relative to the state dir), else the only generated `.gguf`. */
export async function modelFileOf(kind: string, file: string | undefined, stateDir: string): Promise<string> {
  if (file !== undefined) return isAbsolute(file) ? file : join(stateDir, file);
  const dir = join(stateDir, "models");
  const ggufs = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".gguf"));
  const [only] = ggufs;
  if (ggufs.length !== 1 || only === undefined)
    throw new FaultError(
      `${kind}: found ${ggufs.length} .gguf files in ${dir}, need exactly one`,
      "name the model with params.file",
    );
  return join(dir, only);
}

/** The damaged content of `original` for `mode`, from the occurrence's seeded random source. */
export function corrupted(original: Buffer, p: Params, random: () => number): Buffer {
  const out = Buffer.from(original);
  const n = Math.min(p.bytes, out.length);
  const fill = (from: number, count: number): void => {
    for (let i = from; i < from + count; i++) out[i] = Math.floor(random() * 256);
  };
  switch (p.mode) {
    case "header":
      fill(0, n);
      // Random bytes could spell the magic again; make sure they do not.
      if (out.subarray(0, 4).equals(original.subarray(0, 4))) out[0] = (out[0] ?? 0) ^ 0xff;
      return out;
    case "tensor-data": {
      const half = Math.floor(out.length / 2);
      const from = half + Math.floor(random() * Math.max(1, out.length - half - n));
      fill(from, Math.min(n, out.length - from));
      return out;
    }
    case "truncate":
      return out.subarray(0, Math.floor(out.length * p.keepFraction));
  }
}

async function revert(s: State): Promise<void> {
  const backup = join(s.dir, BACKUP);
  const meta = await readFile(join(s.dir, META), "utf8").catch(() => null);
  // No meta file: the harness died before the file was touched (it is written first).
  if (meta !== null && (await stat(backup).catch(() => null))) {
    const tmp = `${s.file}.faultline-restore`;
    await copyFile(backup, tmp);
    await rename(tmp, s.file);
    await fsyncDir(join(s.file, ".."));
  }
  await rm(s.dir, { recursive: true, force: true });
}

/**
 * Damages the real engine's model file on disk (header, tensor data, truncation) and keeps the
 * original bytes beside the spool, so revert (or `faultline cleanup` after a crash) puts them
 * back byte-exact. The service notices at its next load: a SHA-256 mismatch, or llama.cpp
 * refusing the file when the catalog names no hash. Pair it with a worker kill to force a load.
 */
export const modelFileCorruption: Injector<Params, State> = {
  kind: "model-file-corruption",
  summary: "Corrupt the real engine's GGUF model file (header, tensor data, truncate); restored byte-exact",
  params,
  targets: ["worker"],
  isInstant: () => false,
  describe: (p, target) =>
    `${p.mode} corruption of ${target}'s model file${p.file !== undefined ? ` ${p.file}` : ""}`,
  async inject(p, ctx: FaultContext) {
    const stateDir = ctx.target.stateDir;
    if (!stateDir) throw new FaultError(`target "${ctx.targetName}" has no state directory`);
    const file = await modelFileOf("model-file-corruption", p.file, stateDir);
    const state: State = { file, dir: faultsDirOf(stateDir, occurrenceIdOf(ctx)) };
    const original = await readFile(file).catch((e: unknown) => {
      throw new FaultError(`model-file-corruption: cannot read ${file}: ${(e as Error).message}`);
    });
    await mkdir(state.dir, { recursive: true });
    await writeFileAtomic(join(state.dir, BACKUP), original);
    // The meta file marks the backup complete: from here on revert puts it back.
    await writeFileAtomic(join(state.dir, META), JSON.stringify({ file, bytes: original.length }));
    // Through a rename: a worker that has the old file mapped keeps its pages (no SIGBUS); the
    // damage shows at the next load, as a bad write to disk would.
    await writeFileAtomic(file, corrupted(original, p, ctx.random));
    return state;
  },
  revert,
  async revertPending(_p, pending) {
    if (!pending.stateDir) return;
    const dir = faultsDirOf(pending.stateDir, pending.occurrenceId);
    const meta = await readFile(join(dir, META), "utf8").catch(() => null);
    if (meta === null) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const { file } = JSON.parse(meta) as { file: string };
    await revert({ file, dir });
  },
};
