/**
 * The reference target's model source (`target.modelSource: true`): a loopback HTTP server the
 * harness runs, from which the worker downloads the catalogue models whose `source` is a path
 * (worker.modelSourceUrl, reference-service/gpu/download.ts). The worker reaches it through the
 * Toxiproxy link "model-source", so network faults (`net-*` on `link:model-source`) hit the
 * downloads.
 *
 * GET /blob/<bytes> answers `bytes` (at most 64 MiB) of deterministic content with its
 * Content-Length, so a scenario sizes each model's download by its path, e.g. a small model
 * that fits under a `net-limit-data` toxic and a large one that does not.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const CHUNK = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));

export interface ModelSource {
  readonly url: string;
  /** Requests answered with a whole blob, and all requests, since the start. */
  readonly served: () => { readonly complete: number; readonly requests: number };
  close(): Promise<void>;
}

export async function startModelSource(): Promise<ModelSource> {
  let requests = 0;
  let complete = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const m = /^\/blob\/(\d{1,9})$/.exec(req.url ?? "");
    const bytes = m ? Number(m[1]) : NaN;
    if (req.method !== "GET" || !Number.isInteger(bytes) || bytes > MAX_BLOB_BYTES) {
      res.writeHead(404, { "content-type": "text/plain" }).end("GET /blob/<bytes> (at most 64 MiB)\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes) });
    let left = bytes;
    const write = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once("drain", write);
          return;
        }
      }
      res.end(() => complete++);
    };
    write();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served: () => ({ complete, requests }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
