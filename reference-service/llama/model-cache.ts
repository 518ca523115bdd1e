/**
 * Generated models under the state dir: `<stateDir>/models/<name>-<spec hash>.gguf`, with a
 * `.sha256` file beside it holding the content hash. The writer is deterministic, so the spec
 * hash names the content; a cached file whose bytes no longer match its hash is rewritten.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { specFor, writeGguf, type GgufModelSpec, type ModelSize } from "./gguf-writer.js";

export interface GeneratedModel {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly cached: boolean;
  readonly spec: GgufModelSpec;
}

/** Bump when the writer's output changes, so cached files from an older writer are not reused. */
const WRITER_VERSION = 2;

export function specHash(spec: GgufModelSpec): string {
  return createHash("sha256")
    .update(JSON.stringify({ writer: WRITER_VERSION, ...spec }))
    .digest("hex")
    .slice(0, 16);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The model for (size, seed): from the cache when its bytes still match, else written anew. */
export async function generateModel(opts: {
  size: ModelSize;
  seed: number;
  dir: string;
  output?: string;
}): Promise<GeneratedModel> {
  const spec = specFor(opts.size, opts.seed);
  await mkdir(opts.dir, { recursive: true });
  const path = opts.output ?? join(opts.dir, `${spec.name}-${specHash(spec)}.gguf`);
  const hashPath = `${path}.sha256`;
  const known = await readFile(hashPath, "utf8").then(
    (s) => s.trim(),
    () => null,
  );
  if (known !== null) {
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size >= 0 && (await sha256File(path)) === known) {
      return { path, sha256: known, bytes: size, cached: true, spec };
    }
  }
  const tmp = `${path}.tmp-${process.pid}`;
  const bytes = await writeGguf(tmp, spec);
  const sha256 = await sha256File(tmp);
  await rename(tmp, path);
  await writeFile(hashPath, `${sha256}\n`);
  return { path, sha256, bytes, cached: false, spec };
}

export function modelsDir(stateDir: string): string {
  return join(stateDir, "models");
}
