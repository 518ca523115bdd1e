/**
 * Downloads over real loopback sockets: a source that resets the first connections, cuts a
 * body short, or answers 503, then serves; the retry runs on the system clock with short waits
 * (the schedule itself is checked on a manual clock in download.test.ts).
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { ModelDownloadError } from "../../../reference-service/backend-errors.js";
import { ModelDownloads } from "../../../reference-service/gpu/download.js";
import {
  downloadNeeded,
  downloadPath,
  fetchToFile,
  sourceUrl,
} from "../../../reference-service/gpu/fetch-model.js";
import type { CatalogModel } from "../../../reference-service/ipc/protocol.js";

const BODY = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7) & 0xff));
const SHA = createHash("sha256").update(BODY).digest("hex");

type Mode = "reset" | "cut" | "503" | "ok";

let dir = "";
let server: Server;
let base = "";
let modes: Mode[] = [];
let served = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-download-"));
  served = 0;
  server = createServer((req, res) => {
    const mode = modes[served++] ?? "ok";
    if (mode === "reset") {
      req.socket.resetAndDestroy();
    } else if (mode === "503") {
      res.writeHead(503).end("busy");
    } else if (mode === "cut") {
      res.writeHead(200, { "content-length": String(BODY.length) });
      res.write(BODY.subarray(0, 1000), () => req.socket.destroy());
    } else {
      res.writeHead(200, { "content-length": String(BODY.length) }).end(BODY);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const MODEL: CatalogModel = {
  name: "net-model",
  device: "gpu",
  task: "generate",
  sizeBytes: BODY.length,
  loadMs: 1,
  prefillMs: 1,
  prefillMsPerToken: 0,
  msPerToken: 1,
  embeddingDim: 16,
  contextTokens: 512,
  source: "/blob",
  sha256: SHA,
};

describe("fetchToFile on a real socket", () => {
  it("a reset connection, a body cut short and a 503 each fail the attempt and leave no file", async () => {
    const path = downloadPath(dir, MODEL);
    for (const mode of ["reset", "cut", "503"] as const) {
      modes = [mode];
      served = 0;
      const err = await fetchToFile(`${base}/blob`, path, { timeoutMs: 5000, sha256: SHA }).catch(
        (e: unknown) => e as Error,
      );
      expect(err, mode).toBeInstanceOf(Error);
      const expected = {
        reset: /fetch failed: (ECONNRESET|UND_ERR_SOCKET)/,
        cut: /terminated|announced/,
        "503": /HTTP 503/,
      };
      expect((err as Error).message, mode).toMatch(expected[mode]);
      expect(await downloadNeeded(path, SHA)).toBe(true);
    }
    expect(await readdir(join(dir, "models", "downloads"))).toEqual([]); // no temp file left
  });

  it("a wrong SHA-256 fails the attempt", async () => {
    modes = ["ok"];
    await expect(
      fetchToFile(`${base}/blob`, downloadPath(dir, MODEL), { timeoutMs: 5000, sha256: "0".repeat(64) }),
    ).rejects.toThrow("does not match its SHA-256");
  });

  it("a source path needs the base URL", () => {
    expect(sourceUrl("/blob/10", "http://127.0.0.1:9/")).toBe("http://127.0.0.1:9/blob/10");
    expect(sourceUrl("http://127.0.0.1:9/x", null)).toBe("http://127.0.0.1:9/x");
    expect(() => sourceUrl("/blob/10", null)).toThrow("worker.modelSourceUrl");
  });
});

describe("a download failing, then succeeding, with retry (real sockets, 50 ms waits)", () => {
  it("two resets, then the file: downloaded by the third attempt, hash checked, in place", async () => {
    modes = ["reset", "cut"];
    const path = downloadPath(dir, MODEL);
    const downloads = new ModelDownloads({
      clock: systemClock,
      retry: { maxAttempts: 3, initialDelayMs: 50, backoffFactor: 2, maxDelayMs: 60_000 },
      needed: (spec) => downloadNeeded(path, spec.sha256),
      attempt: async (spec) => {
        await fetchToFile(sourceUrl(spec.source ?? "", base), path, { timeoutMs: 5000, sha256: spec.sha256 });
      },
    });
    await expect(downloads.ensure(MODEL)).rejects.toThrow(ModelDownloadError);
    // Waiting for the run: a request during a wait fails at once, one during an attempt waits for it.
    let resolved = false;
    const started = Date.now();
    while (!resolved && Date.now() - started < 5000) {
      resolved = await downloads.ensure(MODEL).then(
        () => true,
        () => false,
      );
      if (!resolved) await new Promise((r) => setTimeout(r, 10));
    }
    expect(resolved).toBe(true);
    expect(served).toBe(3);
    expect(Buffer.compare(await readFile(path), BODY)).toBe(0);
    const stats = downloads.downloadStats()["net-model"];
    expect(stats).toMatchObject({ attemptsOk: 1, attemptsFailed: 2, runsOk: 1, runsFailed: 0 });
    // Measured on the system clock: at least the delay (whole ms; a timer may fire up to 1 ms early).
    expect(stats?.waitsMs[0]).toBeGreaterThanOrEqual(49);
    expect(stats?.waitsMs[1]).toBeGreaterThanOrEqual(99);
    // A fresh manager finds the file in place and fetches nothing.
    expect(await downloadNeeded(path, SHA)).toBe(false);
  });
});
