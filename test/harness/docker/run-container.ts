import type Docker from "dockerode";
import { LABELS } from "../../../harness/docker/labels.js";

/** Runs a one-shot container to completion and returns its exit code and output (stdout+stderr). */
export async function runOnce(
  docker: Docker,
  image: string,
  cmd: readonly string[],
  entrypoint?: readonly string[],
  network?: string,
): Promise<{ exitCode: number; output: string }> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: [...cmd],
    ...(entrypoint ? { Entrypoint: [...entrypoint] } : {}),
    Labels: { [LABELS.managed]: "true", [LABELS.run]: "test" },
    HostConfig: { AutoRemove: false, ...(network ? { NetworkMode: network } : {}) },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = await c.logs({ stdout: true, stderr: true, follow: false });
    return { exitCode: StatusCode, output: demux(logs) };
  } finally {
    await c.remove({ force: true });
  }
}

/** Strips Docker's 8-byte multiplexing headers from a non-TTY log buffer. */
export function demux(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString("utf8");
    i += 8 + len;
  }
  return out;
}
