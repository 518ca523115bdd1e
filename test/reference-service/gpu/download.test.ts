import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { ModelDownloadError } from "../../../reference-service/backend-errors.js";
import { ModelDownloads, type DownloadRetryOptions } from "../../../reference-service/gpu/download.js";
import { VramLedger } from "../../../reference-service/gpu/ledger.js";
import { ModelManager, loadRetryDelayMs } from "../../../reference-service/gpu/models.js";
import { DEFAULT_WORKER_CONFIG, type CatalogModel } from "../../../reference-service/ipc/protocol.js";

/** Write-up 002: "model_download": {"max_attempts": 3, "initial_delay": 5.0, "backoff_factor": 2.0, "max_delay": 60.0} */
const WRITE_UP: DownloadRetryOptions = {
  maxAttempts: 3,
  initialDelayMs: 5000,
  backoffFactor: 2,
  maxDelayMs: 60_000,
};

const MODEL: CatalogModel = {
  name: "net-model",
  device: "gpu",
  task: "generate",
  sizeBytes: 1024,
  loadMs: 10,
  prefillMs: 1,
  prefillMsPerToken: 0,
  msPerToken: 1,
  embeddingDim: 16,
  contextTokens: 512,
  source: "/blob/1024",
};

/** Attempts fail while `failing()` holds; each attempt's start time (Clock.monotonic) is recorded. */
function setup(failing: (attempt: number) => boolean, attemptMs = 0) {
  const clock = new ManualClock(1_000_000);
  const starts: number[] = [];
  const lines: string[] = [];
  const downloads = new ModelDownloads({
    clock,
    retry: WRITE_UP,
    needed: () => Promise.resolve(true),
    attempt: async () => {
      starts.push(clock.monotonic());
      if (attemptMs > 0) await clock.sleep(attemptMs);
      if (failing(starts.length)) throw new Error("fetch failed: ECONNRESET");
    },
    log: (l) => lines.push(l),
  });
  return { clock, downloads, starts, lines };
}

describe("download retry schedule (write-up 002: model_download 3 attempts, 5.0 s, factor 2.0, max 60 s)", () => {
  it("the worker's default is 002's numbers", () => {
    expect(DEFAULT_WORKER_CONFIG.downloadRetry).toEqual(WRITE_UP);
  });

  it("waits 5 s, then 10 s, doubling up to the 60 s cap", () => {
    const long = { ...WRITE_UP, maxAttempts: 8 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => loadRetryDelayMs(long, n))).toEqual([
      5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("two failed attempts, the third 5 s + 10 s later downloads; measured waits exactly 5000 and 10000 ms", async () => {
    const { clock, downloads, starts, lines } = setup((n) => n < 3);
    await expect(downloads.ensure(MODEL)).rejects.toThrow(
      "model 'net-model' could not be downloaded: attempt 1 of 3 failed (fetch failed: ECONNRESET)",
    );
    expect(starts).toEqual([0]);
    // While the run waits, a request fails at once, saying when the next attempt comes.
    await clock.advanceAsync(1000);
    await expect(downloads.ensure(MODEL)).rejects.toThrow(
      "attempt 1 of 3 failed (fetch failed: ECONNRESET); attempt 2 in 4000 ms",
    );
    expect(starts).toEqual([0]); // and starts no attempt of its own
    await clock.advanceAsync(3999);
    expect(starts).toEqual([0]);
    await clock.advanceAsync(1);
    expect(starts).toEqual([0, 5000]);
    await clock.advanceAsync(9999);
    expect(starts).toEqual([0, 5000]);
    await clock.advanceAsync(1);
    expect(starts).toEqual([0, 5000, 15_000]);
    await downloads.ensure(MODEL); // downloaded: resolves at once, no new attempt
    expect(starts).toHaveLength(3);
    expect(downloads.downloadStats()).toEqual({
      "net-model": { attemptsOk: 1, attemptsFailed: 2, runsOk: 1, runsFailed: 0, waitsMs: [5000, 10_000] },
    });
    expect(lines).toEqual([
      "download of net-model: attempt 1 of 3 failed after 0 ms (fetch failed: ECONNRESET); next in 5000 ms",
      "download of net-model: attempt 2 of 3 failed after 0 ms (fetch failed: ECONNRESET); next in 10000 ms",
      "download of net-model: attempt 3 of 3 downloaded it in 0 ms",
    ]);
  });

  it("a request arriving during an attempt waits for that attempt, not for the retry wait", async () => {
    const { clock, downloads, starts } = setup((n) => n === 1, 200);
    const first = downloads.ensure(MODEL).catch((e: unknown) => e);
    await clock.advanceAsync(100);
    const second = downloads.ensure(MODEL).catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(await first).toBeInstanceOf(ModelDownloadError);
    expect(await second).toBeInstanceOf(ModelDownloadError);
    await clock.advanceAsync(5000); // attempt 2 starts 5 s after attempt 1 ended
    expect(starts).toEqual([0, 5200]);
    const third = downloads.ensure(MODEL);
    await clock.advanceAsync(200);
    await expect(third).resolves.toBeUndefined();
  });

  it("all 3 attempts fail: the run gives up after 15 s; the next request starts a new run", async () => {
    const { clock, downloads, starts } = setup(() => true);
    await expect(downloads.ensure(MODEL)).rejects.toThrow(ModelDownloadError);
    await clock.advanceAsync(15_000);
    expect(starts).toEqual([0, 5000, 15_000]);
    expect(downloads.downloadStats()["net-model"]).toEqual({
      attemptsOk: 0,
      attemptsFailed: 3,
      runsOk: 0,
      runsFailed: 1,
      waitsMs: [5000, 10_000],
    });
    await clock.advanceAsync(60_000); // no fourth attempt on its own
    expect(starts).toHaveLength(3);
    await expect(downloads.ensure(MODEL)).rejects.toThrow("attempt 1 of 3 failed");
    expect(starts).toEqual([0, 5000, 15_000, 75_000]);
  });

  it("a model whose file is in place (needed() false) or that has no source is not fetched", async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const downloads = new ModelDownloads({
      clock,
      retry: WRITE_UP,
      needed: () => Promise.resolve(false),
      attempt: () => {
        attempts++;
        return Promise.resolve();
      },
    });
    await downloads.ensure(MODEL);
    const { source: _unused, ...local } = MODEL;
    await downloads.ensure(local);
    expect(attempts).toBe(0);
    expect(downloads.downloadStats()).toEqual({});
  });
});

describe("ModelManager with a downloaded model", () => {
  it("fetches before the first load: requests fail at once during the waits, then the model loads in its loadMs", async () => {
    const { clock, downloads, starts } = setup((n) => n < 3);
    const ledger = new VramLedger({ totalBytes: 8 * 1024 ** 3, reservedBytes: 0 });
    const models = new ModelManager({
      clock,
      ledger,
      catalog: [MODEL],
      minKvBytes: 0,
      defaultKeepAliveMs: 600_000,
      temporaryKeepAliveMs: 300_000,
      downloads,
    });
    await expect(models.acquire("net-model")).rejects.toThrow(ModelDownloadError);
    expect(models.status()[0]).toMatchObject({ state: "unloaded" });
    expect(models.status()[0]?.reason).toContain("attempt 1 of 3 failed");
    await clock.advanceAsync(6000);
    await expect(models.acquire("net-model")).rejects.toThrow("attempt 3 in 9000 ms");
    await clock.advanceAsync(9000);
    expect(starts).toEqual([0, 5000, 15_000]);
    const lease = models.acquire("net-model");
    await clock.advanceAsync(10); // the model's loadMs
    expect((await lease).model.name).toBe("net-model");
    expect(models.state("net-model")).toBe("ready");
  });
});
