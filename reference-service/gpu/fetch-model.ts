/**
 * One download attempt of a model (gpu/download.ts runs the retries): GET its source with
 * undici's fetch on a connection of its own (an attempt after a failure reconnects), stream the body into a temp file beside the destination, check the
 * length the server announced and the catalogue's SHA-256 (if any), then rename it into place,
 * so a load never reads a half-written file. Any failure (refused, reset, cut mid-body, HTTP
 * status other than 200, wrong length or hash, too slow) throws, and the temp file is removed.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Agent, fetch } from "undici";
import type { CatalogModel } from "../ipc/protocol.js";
import { sha256File } from "../llama/model-cache.js";

/** Where downloaded models go when the catalogue names no file: `<stateDir>/models/downloads/`. */
export const DOWNLOADS_DIR = join("models", "downloads");

/** The model's file: its ggufPath, else `<stateDir>/models/downloads/<name>.bin`. */
export function downloadPath(stateDir: string, spec: CatalogModel): string {
  return spec.ggufPath ?? join(stateDir, DOWNLOADS_DIR, `${spec.name}.bin`);
}

/** The source as an absolute URL: a path ("/...") is taken relative to `baseUrl`. */
export function sourceUrl(source: string, baseUrl: string | null): string {
  if (!source.startsWith("/")) return source;
  if (baseUrl === null)
    throw new Error(
      `source ${source} is a path, and worker.modelSourceUrl (the base it is relative to) is not set`,
    );
  return `${baseUrl.replace(/\/$/, "")}${source}`;
}

/** True when `path` is missing, or does not match `sha256` (when given). */
export async function downloadNeeded(path: string, sha256: string | undefined): Promise<boolean> {
  const exists = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) return true;
  if (sha256 === undefined) return false;
  return (await sha256File(path).catch(() => "")) !== sha256;
}

/** Fetches `url` into `path`; resolves with the bytes written. */
export async function fetchToFile(
  url: string,
  path: string,
  opts: { readonly timeoutMs: number; readonly sha256?: string | undefined },
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.part-${process.pid}`;
  const agent = new Agent({ connections: 1 });
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: "follow",
      dispatcher: agent,
    });
    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${res.status} from ${url}`);
    }
    const announced = Number(res.headers.get("content-length") ?? NaN);
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(tmp));
    const bytes = (await stat(tmp)).size;
    if (Number.isFinite(announced) && bytes !== announced)
      throw new Error(`got ${bytes} of the ${announced} bytes announced`);
    if (opts.sha256 !== undefined) {
      const actual = await sha256File(tmp);
      if (actual !== opts.sha256)
        throw new Error(`the file does not match its SHA-256 (found ${actual.slice(0, 16)}…)`);
    }
    await rename(tmp, path);
    return bytes;
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(describeFetchError(e), { cause: e });
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

/** fetch's own message is "fetch failed" or "terminated"; the cause says what happened. */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "TimeoutError") return `no complete answer within the download timeout (${e.message})`;
  const cause = (e as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${e.message}: ${code ?? cause.message}`;
  }
  return e.message;
}
