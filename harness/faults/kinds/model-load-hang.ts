import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { fsyncDir, writeFileAtomic } from "../atomic-file.js";
import type { FaultContext, Injector } from "../injector.js";
import { faultsDirOf } from "../ipc-manifest.js";
import { modelFileOf } from "./model-file-corruption.js";
import { occurrenceIdOf } from "../occurrence.js";

const run = promisify(execFile);

const params = z.strictObject({
  /** The model file; relative paths are under the target's state directory. Default: the only
   * `.gguf` in `<stateDir>/models` (where the service writes models it generates). */
  file: z.string().min(1).optional(),
});
type Params = z.infer<typeof params>;
/** `dir` holds the original (a hard link, or a copy across file systems) and the meta file. */
type State = { file: string; dir: string };

const BACKUP = "original.gguf";
const META = "model-file.json";
type Meta = { file: string; fifo: string };

const fifoTmpOf = (file: string, occurrenceId: string): string =>
  join(dirname(file), `.${basename(file)}.faultline-hang-${occurrenceId}`);

const lstatOrNull = (path: string) => lstat(path).catch(() => null);

/** The original back at `file`: a rename (atomic, replaces the FIFO), or a copy across file systems. */
async function restore(backup: string, file: string): Promise<void> {
  try {
    await rename(backup, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    const tmp = `${file}.faultline-restore`;
    await copyFile(backup, tmp);
    await rename(tmp, file);
  }
  await fsyncDir(dirname(file));
}

/**
 * A writer on the FIFO, held while the original goes back: every open() blocked on the FIFO
 * returns, and once it is closed their reads see end of file, so a load stuck there ends with
 * an error (and the service's next load reads the restored file) instead of staying hung.
 * null when nobody is blocked (ENXIO: a non-blocking writer needs a reader).
 */
async function releaseReaders(fifo: string): Promise<FileHandle | null> {
  try {
    return await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENXIO") return null;
    throw e;
  }
}

async function revert(s: State): Promise<void> {
  const meta = await readFile(join(s.dir, META), "utf8").then(
    (t) => JSON.parse(t) as Meta,
    () => null,
  );
  // No meta file: the harness died before anything was touched (it is written first).
  if (meta !== null) {
    const backup = join(s.dir, BACKUP);
    const atPath = await lstatOrNull(s.file);
    // Only our FIFO (or nothing) is replaced: a regular file there is the original (a crash
    // before the FIFO went in) or a newer file someone wrote, and is left alone.
    if ((await lstatOrNull(backup)) && (atPath === null || atPath.isFIFO())) {
      const writer = atPath ? await releaseReaders(s.file) : null;
      try {
        await restore(backup, s.file);
      } finally {
        await writer?.close();
      }
    }
    await rm(meta.fifo, { force: true });
  }
  await rm(s.dir, { recursive: true, force: true });
}

/**
 * A model load that never finishes: the model file is replaced by a FIFO nobody writes to, so
 * the next open of it (the worker's SHA-256 check, or llama.cpp itself) blocks for good, as on
 * a stalled network file system. A resident model keeps serving from memory (the original
 * inode lives on as the backup); pair it with a worker kill to force a load. The worker's load
 * watchdog (`worker.llama.loadTimeoutMs`) is what must end it. Revert puts the original back
 * by rename (byte-exact: the same inode) and releases any load still blocked on the FIFO.
 */
export const modelLoadHang: Injector<Params, State> = {
  kind: "model-load-hang",
  summary:
    "The real engine's next model load hangs: the GGUF file becomes a FIFO nobody writes; restored at revert",
  params,
  targets: ["worker"],
  isInstant: () => false,
  describe: (_p, target) => `${target}'s next model load blocks on its model file`,
  async inject(p, ctx: FaultContext) {
    const stateDir = ctx.target.stateDir;
    if (!stateDir) throw new FaultError(`target "${ctx.targetName}" has no state directory`);
    const id = occurrenceIdOf(ctx);
    const file = await modelFileOf("model-load-hang", p.file, stateDir);
    const st = await lstatOrNull(file);
    if (!st?.isFile())
      throw new FaultError(
        `model-load-hang: ${file} is not a regular file`,
        "name the model with params.file",
      );
    const state: State = { file, dir: faultsDirOf(stateDir, id) };
    const meta: Meta = { file, fifo: fifoTmpOf(file, id) };
    await mkdir(state.dir, { recursive: true });
    // The meta file first: from here on revert (and cleanup after a crash) knows what to undo.
    await writeFileAtomic(join(state.dir, META), JSON.stringify(meta));
    try {
      await run("mkfifo", ["-m", "0644", meta.fifo]);
    } catch (e) {
      throw new FaultError(`model-load-hang: mkfifo ${meta.fifo} failed: ${(e as Error).message}`);
    }
    const backup = join(state.dir, BACKUP);
    try {
      await link(file, backup);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
      await copyFile(file, `${backup}.tmp`);
      await rename(`${backup}.tmp`, backup);
    }
    await fsyncDir(state.dir);
    await rename(meta.fifo, file);
    await fsyncDir(dirname(file));
    return state;
  },
  revert,
  async revertPending(_p, pending) {
    if (!pending.stateDir) return;
    const dir = faultsDirOf(pending.stateDir, pending.occurrenceId);
    const meta = await readFile(join(dir, META), "utf8").then(
      (t) => JSON.parse(t) as Meta,
      () => null,
    );
    if (meta === null) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await revert({ file: meta.file, dir });
  },
};
