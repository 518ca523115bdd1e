import { chmod, open, readFile, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { encodeSpoolFrame } from "../targets/reference/layout.js";
import type { IpcManifest } from "./ipc-manifest.js";

/**
 * The corruption modes. Victim modes damage a frame the service wrote (it must exist at that
 * moment: frames live milliseconds, so the injector catches them as they appear); plant modes
 * add a file of their own, named after the occurrence so it can always be found and removed.
 */
export const VICTIM_MODES = [
  "truncate",
  "random-bytes",
  "bit-flip",
  "duplicate",
  "delete-in-flight",
  "unreadable",
] as const;
export const PLANT_MODES = ["invalid-frame", "wrong-schema", "stale"] as const;
export const IPC_MODES = [...VICTIM_MODES, ...PLANT_MODES] as const;
export type VictimMode = (typeof VICTIM_MODES)[number];
export type PlantMode = (typeof PLANT_MODES)[number];
export type IpcMode = (typeof IPC_MODES)[number];

export const isVictimMode = (m: IpcMode): m is VictimMode => (VICTIM_MODES as readonly string[]).includes(m);

export interface ModeEnv {
  readonly manifest: IpcManifest;
  readonly random: () => number;
  readonly nowMs: () => number;
  readonly occurrenceId: string;
  readonly bits: number;
  readonly staleAgeMs: number;
  /** chmod (EACCES, only for readers that are not root) or loop (ELOOP, for every reader). */
  readonly unreadableAs: "chmod" | "loop";
  /** Numbers the files this occurrence plants. */
  next(): number;
}

const randomBytesFrom = (random: () => number, n: number): Buffer =>
  Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

/** Rewrites `path` in place (same inode: a reader holding it open sees the damage). */
async function rewrite(path: string, fn: (buf: Buffer) => Buffer): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const buf = await fh.readFile();
    const out = fn(buf);
    await fh.write(out, 0, out.length, 0);
    await fh.truncate(out.length);
  } finally {
    await fh.close();
  }
}

function flipBits(buf: Buffer, bits: number, random: () => number): Buffer {
  const out = Buffer.from(buf);
  for (let i = 0; i < bits && out.length > 0; i++) {
    const bit = Math.floor(random() * out.length * 8);
    out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  }
  return out;
}

async function makeUnreadable(path: string, env: ModeEnv): Promise<void> {
  if (env.unreadableAs === "chmod") {
    await env.manifest.record({ op: "chmod", path, mode: (await stat(path)).mode & 0o7777 });
    await chmod(path, 0o000);
    return;
  }
  const backup = join(env.manifest.dir, `backup-${env.next()}-${basename(path)}`);
  await env.manifest.record({ op: "loop", path, backup });
  await rename(path, backup);
  await symlink(basename(path), path);
  await env.manifest.record({ op: "loop-made", path });
}

async function duplicate(path: string, env: ModeEnv): Promise<void> {
  const data = await readFile(path);
  // Same frame (same requestId and seq inside), a name that sorts after the original.
  const copy = join(
    dirname(path),
    basename(path).replace(/^\d{10}/, `99${String(env.next()).padStart(8, "0")}`),
  );
  await env.manifest.record({ op: "planted", path: copy });
  await writeFile(copy, data);
}

/** Damages one existing frame; false when it was gone before we got to it. */
export async function corruptVictim(mode: VictimMode, path: string, env: ModeEnv): Promise<boolean> {
  try {
    switch (mode) {
      case "truncate":
        await rewrite(path, (b) => b.subarray(0, Math.floor(env.random() * b.length)));
        return true;
      case "random-bytes":
        await rewrite(path, (b) => randomBytesFrom(env.random, b.length));
        return true;
      case "bit-flip":
        await rewrite(path, (b) => flipBits(b, env.bits, env.random));
        return true;
      case "duplicate":
        await duplicate(path, env);
        return true;
      case "delete-in-flight":
        await rm(path);
        return true;
      case "unreadable":
        await makeUnreadable(path, env);
        return true;
      default: {
        const never: never = mode;
        throw new Error(`unknown mode ${String(never)}`);
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

function plantedFrame(
  mode: PlantMode,
  dir: "requests" | "responses",
  seq: number,
  requestId: string,
  env: ModeEnv,
): Buffer {
  const now = env.nowMs();
  switch (mode) {
    case "invalid-frame": {
      const frame = encodeSpoolFrame({ seq, requestId }, { type: "cancel", sentAtMs: now });
      const crcAt = 19 + requestId.length - 4;
      frame[crcAt] = (frame[crcAt] ?? 0) ^ 0xff; // a frame whose checksum does not match
      return frame;
    }
    case "wrong-schema":
      return encodeSpoolFrame(
        { seq, requestId },
        { type: "faultline-wrong-schema", sentAtMs: now, junk: [1, 2, 3] },
      );
    case "stale": {
      const sentAtMs = now - env.staleAgeMs;
      const payload =
        dir === "requests"
          ? { type: "cancel", sentAtMs, reason: "faultline stale frame" }
          : {
              sentAtMs,
              part: 0,
              events: [{ type: "error", code: "cancelled", message: "faultline stale frame" }],
            };
      return encodeSpoolFrame({ seq, requestId }, payload);
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** Adds one file of our own to `spoolDir` (written aside, then renamed in). */
export async function plant(
  mode: PlantMode,
  spoolDir: string,
  dir: "requests" | "responses",
  env: ModeEnv,
): Promise<string> {
  const n = env.next();
  const requestId = `faultline-${env.occurrenceId}-${n}`;
  const path = join(spoolDir, `${String(n).padStart(10, "0")}-${requestId}.frame`);
  await env.manifest.record({ op: "planted", path });
  const tmp = join(env.manifest.dir, `plant-${n}.tmp`);
  await writeFile(tmp, plantedFrame(mode, dir, n, requestId, env));
  if (mode === "stale") {
    const old = new Date(env.nowMs() - env.staleAgeMs);
    await utimes(tmp, old, old);
  }
  await rename(tmp, path);
  return path;
}
