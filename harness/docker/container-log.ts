import { writeFile } from "node:fs/promises";
import type Docker from "dockerode";

/**
 * The engine's log of a container without a TTY is a sequence of frames: an 8-byte header
 * (stream type, 3 zero bytes, big-endian length) and that many bytes. Returns the text.
 */
export function demuxLog(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Writes a container's whole log (stdout and stderr) to `path`; best effort (it may be gone). */
export async function saveContainerLog(docker: Docker, container: string, path: string): Promise<void> {
  const buf = await docker
    .getContainer(container)
    .logs({ stdout: true, stderr: true, follow: false })
    .catch((e: unknown) => Buffer.from(`# the engine gave no log: ${(e as Error).message}\n`));
  await writeFile(path, Buffer.isBuffer(buf) ? demuxLog(buf) : String(buf)).catch(() => undefined);
}
