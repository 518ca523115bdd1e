import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";

const execFileP = promisify(execFile);

/**
 * Writes one file into a created (not yet started) container through the engine's archive
 * API, so it stays in the container's own layer across restarts and needs no bind mount: the
 * engine may not see this machine's paths. The tar is made by the system's tar, as the image
 * builder's is.
 */
export async function putFile(container: Docker.Container, path: string, text: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "faultline-put-"));
  try {
    await writeFile(join(dir, basename(path)), text);
    const { stdout } = await execFileP(
      "tar",
      ["-C", dir, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", basename(path)],
      { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 },
    );
    await container.putArchive(stdout, { path: dirname(path) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
