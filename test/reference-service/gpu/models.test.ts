import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import {
  GpuOutOfMemoryError,
  ModelLoadError,
  ModelNotFoundError,
} from "../../../reference-service/backend-errors.js";
import { VramLedger } from "../../../reference-service/gpu/ledger.js";
import {
  ModelManager,
  loadRetryDelayMs,
  type LoadRetryOptions,
} from "../../../reference-service/gpu/models.js";
import type { CatalogModel } from "../../../reference-service/ipc/protocol.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const T0 = 1_000_000;

const model = (name: string, device: "gpu" | "cpu", sizeBytes: number, loadMs: number): CatalogModel => ({
  name,
  device,
  task: device === "cpu" ? "embed" : "generate",
  sizeBytes,
  loadMs,
  prefillMs: 0,
  prefillMsPerToken: 0,
  msPerToken: 0,
  embeddingDim: 4,
  contextTokens: 1024,
});

interface SetupOptions {
  cotenant?: () => number;
  gpuModelsMax?: number | null;
  loadRetry?: LoadRetryOptions;
  extra?: CatalogModel[];
}

function setup(opts: SetupOptions = {}) {
  const clock = new ManualClock(T0);
  const ledger = new VramLedger({ totalBytes: 8 * GiB, reservedBytes: 512 * MiB });
  const cotenantReads: number[] = [];
  const models = new ModelManager({
    clock,
    ledger,
    catalog: [
      model("small", "gpu", 2 * GiB, 100),
      model("large", "gpu", 4 * GiB, 300),
      model("cpu", "cpu", 256 * MiB, 50),
      ...(opts.extra ?? []),
    ],
    ...(opts.gpuModelsMax !== undefined ? { gpuModelsMax: opts.gpuModelsMax } : {}),
    ...(opts.loadRetry ? { loadRetry: opts.loadRetry } : {}),
    minKvBytes: 256 * MiB,
    defaultKeepAliveMs: 600_000,
    temporaryKeepAliveMs: 300_000,
    primary: "small",
    refreshCotenants: () => {
      cotenantReads.push(clock.now() - T0);
      ledger.setCotenantBytes(opts.cotenant?.() ?? 0);
      return Promise.resolve();
    },
  });
  const states = () => Object.fromEntries(models.status().map((s) => [s.name, s.state]));
  return { clock, ledger, models, states, cotenantReads };
}

describe("ModelManager lifecycle", () => {
  it("loads in exactly loadMs: unloaded -> loading -> ready, weights charged", async () => {
    const { clock, ledger, models, states } = setup();
    expect(states()).toEqual({ small: "unloaded", large: "unloaded", cpu: "unloaded" });
    const lease = models.acquire("small");
    await clock.advanceAsync(99);
    expect(states().small).toBe("loading");
    expect(ledger.weightsBytes).toBe(2 * GiB);
    await clock.advanceAsync(1);
    expect(states().small).toBe("ready");
    expect((await lease).model.name).toBe("small");
    expect(models.status().find((s) => s.name === "small")?.refCount).toBe(1);
  });

  it("unloads the primary model after exactly 600 s idle, and resets the TTL on use", async () => {
    const { clock, ledger, models, states } = setup();
    const p = models.acquire("small");
    await clock.advanceAsync(100);
    (await p).release();
    expect(models.status()[0]?.expiresAtMs).toBe(T0 + 100 + 600_000);
    await clock.advanceAsync(300_000);
    const again = await models.acquire("small"); // in use: no expiry while held
    expect(models.status()[0]?.expiresAtMs).toBe(undefined);
    again.release();
    expect(models.status()[0]?.expiresAtMs).toBe(T0 + 300_100 + 600_000);
    await clock.advanceAsync(599_999);
    expect(states().small).toBe("ready");
    await clock.advanceAsync(1);
    expect(states().small).toBe("unloaded");
    expect(ledger.weightsBytes).toBe(0);
  });

  it("gives an on-demand load of a non-primary model the 300 s temporary TTL", async () => {
    const { clock, models, states } = setup();
    const p = models.acquire("cpu");
    await clock.advanceAsync(50);
    (await p).release();
    await clock.advanceAsync(299_999);
    expect(states().cpu).toBe("ready");
    await clock.advanceAsync(1);
    expect(states().cpu).toBe("unloaded");
  });

  it("honours per-request keep-alive: 0 unloads after the reply, negative pins", async () => {
    const { clock, models, states } = setup();
    const p = models.acquire("small");
    await clock.advanceAsync(100);
    (await p).release(0);
    await clock.advanceAsync(0);
    expect(states().small).toBe("unloaded");
    const q = models.acquire("small");
    await clock.advanceAsync(100);
    (await q).release(-1);
    await clock.advanceAsync(10 * 3_600_000);
    expect(states().small).toBe("ready");
    expect(models.status()[0]?.expiresAtMs).toBe(undefined);
  });

  it("keeps one GPU model resident: swapping drains the held one first", async () => {
    const { clock, ledger, models, states } = setup();
    const p = models.acquire("small");
    await clock.advanceAsync(100);
    const small = await p;
    let large: Awaited<ReturnType<ModelManager["acquire"]>> | undefined;
    void models.acquire("large").then((l) => (large = l));
    await clock.advanceAsync(1000);
    expect(states()).toEqual({ small: "draining", large: "unloaded", cpu: "unloaded" });
    small.release();
    await clock.advanceAsync(0);
    expect(states()).toEqual({ small: "unloaded", large: "loading", cpu: "unloaded" });
    expect(ledger.weightsBytes).toBe(4 * GiB);
    await clock.advanceAsync(300);
    expect(states().large).toBe("ready");
    expect(large?.model.name).toBe("large");
  });

  it("fails a load with a CUDA OOM while a co-tenant holds memory, and loads once it is gone", async () => {
    let cotenant = 6 * GiB;
    const { clock, ledger, models, states } = setup({ cotenant: () => cotenant });
    await expect(models.acquire("small")).rejects.toThrow(GpuOutOfMemoryError);
    expect(models.status()[0]).toEqual({
      name: "small",
      device: "gpu",
      state: "failed",
      reason:
        "CUDA out of memory. Tried to allocate 2.25 GiB (GPU 0; 8.00 GiB total capacity; 0.50 GiB already allocated; 1536.00 MiB free)",
      sizeBytes: 2 * GiB,
      refCount: 0,
    });
    expect(ledger.weightsBytes).toBe(0);
    cotenant = 0;
    const p = models.acquire("small");
    await clock.advanceAsync(100);
    expect((await p).model.name).toBe("small");
    expect(states().small).toBe("ready");
  });

  it("shares one load among concurrent callers, and all see its failure", async () => {
    let cotenant = 0;
    const { clock, models } = setup({ cotenant: () => cotenant });
    const a = models.acquire("small");
    const b = models.acquire("small");
    await clock.advanceAsync(100);
    await Promise.all([a, b]);
    expect(models.status()[0]?.refCount).toBe(2);

    const c = models.acquire("large"); // swap needs small drained: release both
    (await a).release();
    (await b).release();
    cotenant = 4 * GiB; // large (4 GiB + 256 MiB KV) no longer fits beside 0.5 + 4 GiB
    const d = models.acquire("large");
    const results = await Promise.allSettled([c, d]);
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "ok"))).toEqual([
      "GpuOutOfMemoryError",
      "GpuOutOfMemoryError",
    ]);
    await clock.advanceAsync(0);
  });

  it("fails verification when a co-tenant grabs memory during the load", async () => {
    let cotenant = 0;
    const { clock, models, ledger } = setup({ cotenant: () => cotenant });
    const p = models.acquire("large");
    await clock.advanceAsync(150);
    cotenant = 4 * GiB; // 0.5 + 4 (weights) + 4 (co-tenant) > 8 GiB
    await clock.advanceAsync(150);
    await expect(p).rejects.toThrow(ModelLoadError);
    await expect(p).rejects.toThrow(
      "model 'large' failed verification: device over-committed after load (co-tenant grew)",
    );
    expect(ledger.weightsBytes).toBe(0);
  });

  it("fails verification when a co-tenant leaves the weights but no room for the KV cache", async () => {
    let cotenant = 0;
    const { clock, models } = setup({ cotenant: () => cotenant });
    const p = models.acquire("small");
    await clock.advanceAsync(50); // weights allocated, load under way
    cotenant = 5.5 * GiB - 100; // 0.5 + 2 + 5.5 GiB - 100 bytes: 100 bytes free < 256 MiB
    await clock.advanceAsync(50);
    await expect(p).rejects.toThrow(
      `model 'small' failed verification: only 100 bytes free after load, ${256 * MiB} needed for the KV cache`,
    );
    expect(models.state("small")).toBe("failed");
  });

  it("evicts idle GPU models on demand and rejects unknown models", async () => {
    const { clock, models, states } = setup();
    const p = models.load("small");
    await clock.advanceAsync(100);
    expect(await p).toBe("ready");
    expect(models.evictIdle()).toEqual(["small"]);
    await clock.advanceAsync(0);
    expect(states().small).toBe("unloaded");
    await expect(models.acquire("nope")).rejects.toThrow(ModelNotFoundError);
    await expect(models.acquire("nope")).rejects.toThrow(
      "model 'nope' does not exist (known: small, large, cpu)",
    );
  });

  it("explicit unload waits for the model's requests to finish", async () => {
    const { clock, models, states } = setup();
    const p = models.acquire("small");
    await clock.advanceAsync(100);
    const lease = await p;
    let unloaded: string | undefined;
    void models.unload("small").then((s) => (unloaded = s));
    await clock.advanceAsync(5000);
    expect([states().small, unloaded]).toEqual(["draining", undefined]);
    lease.release();
    await clock.advanceAsync(0);
    expect([states().small, unloaded]).toEqual(["unloaded", "unloaded"]);
  });
});

describe("ModelManager gpuModelsMax (write-up 000: only one GPU model loaded at a time)", () => {
  it("default 1: two first requests for different GPU models at once never load side by side", async () => {
    const { clock, models, states, ledger } = setup();
    const small = models.acquire("small");
    const large = models.acquire("large");
    await clock.advanceAsync(50);
    expect(states()).toEqual({ small: "loading", large: "unloaded", cpu: "unloaded" });
    await clock.advanceAsync(50);
    // small loaded and leased by its request: large's load waits for that request to finish.
    expect(states()).toEqual({ small: "draining", large: "unloaded", cpu: "unloaded" });
    (await small).release();
    await clock.advanceAsync(0);
    expect(states()).toEqual({ small: "unloaded", large: "loading", cpu: "unloaded" });
    expect(ledger.weightsBytes).toBe(4 * GiB);
    await clock.advanceAsync(300);
    expect((await large).model.name).toBe("large");
    expect([models.gpuResident, models.gpuResidentPeak]).toEqual([1, 1]);
  });

  it("default 1: requests alternating between two GPU models keep the peak at 1", async () => {
    const { clock, models } = setup();
    const leases: Promise<{ release(): void }>[] = [];
    for (let i = 0; i < 6; i++) {
      leases.push(models.acquire(i % 2 === 0 ? "small" : "large"));
      await clock.advanceAsync(10);
    }
    for (let step = 0; step < 20; step++) {
      await clock.advanceAsync(100);
      for (const l of leases.splice(0)) void l.then((x) => x.release());
    }
    await clock.advanceAsync(5000);
    expect(models.gpuResidentPeak).toBe(1);
    expect(models.gpuResident).toBe(1);
  });

  it("a CPU model loads beside the GPU one and is not counted", async () => {
    const { clock, models, states } = setup();
    const a = models.acquire("small");
    const b = models.acquire("cpu");
    await clock.advanceAsync(100);
    await Promise.all([a, b]);
    expect(states()).toEqual({ small: "ready", large: "unloaded", cpu: "ready" });
    expect([models.gpuResident, models.gpuResidentPeak]).toEqual([1, 1]);
  });

  it("2: a third GPU model unloads the least recently used idle one", async () => {
    const { clock, models, states } = setup({
      gpuModelsMax: 2,
      extra: [model("tiny", "gpu", 512 * MiB, 100)],
    });
    (await loaded(clock, models.acquire("small"), 100)).release();
    (await loaded(clock, models.acquire("tiny"), 100)).release();
    expect(states()).toMatchObject({ small: "ready", tiny: "ready" });
    await clock.advanceAsync(1000);
    (await loaded(clock, models.acquire("tiny"), 0)).release(); // tiny used last: small is LRU
    const large = models.acquire("large");
    await clock.advanceAsync(0);
    expect(states()).toMatchObject({ small: "unloaded", tiny: "ready", large: "loading" });
    await clock.advanceAsync(300);
    expect((await large).model.name).toBe("large");
    expect([models.gpuResident, models.gpuResidentPeak]).toEqual([2, 2]);
  });

  it("null: as many as VRAM allows; one that does not fit fails with a CUDA OOM", async () => {
    const { clock, models, states } = setup({
      gpuModelsMax: null,
      extra: [model("huge", "gpu", 2 * GiB, 100)],
    });
    const a = models.acquire("small");
    const b = models.acquire("large");
    await clock.advanceAsync(300);
    await Promise.all([a, b]);
    expect(states()).toMatchObject({ small: "ready", large: "ready" });
    expect([models.gpuResident, models.gpuResidentPeak]).toEqual([2, 2]);
    // 0.5 reserved + 2 + 4 GiB used: 2 GiB more leaves less than the 256 MiB KV minimum.
    await expect(models.acquire("huge")).rejects.toThrow(GpuOutOfMemoryError);
    expect(models.gpuResident).toBe(2);
  });
});

describe("ModelManager loadRetry (write-up 002: model_loading max_attempts 2, initial_delay 2.0, backoff 1.5, max 10.0)", () => {
  const WRITE_UP: LoadRetryOptions = {
    maxAttempts: 2,
    initialDelayMs: 2000,
    backoffFactor: 1.5,
    maxDelayMs: 10_000,
  };

  it("waits initial x factor^(n-1), capped at the max", () => {
    const long = { ...WRITE_UP, maxAttempts: 6 };
    expect([1, 2, 3, 4, 5].map((n) => loadRetryDelayMs(long, n))).toEqual([2000, 3000, 4500, 6750, 10_000]);
  });

  it("a load failing once is tried again exactly 2 s later and serves; its waiters share it", async () => {
    let cotenant = 6 * GiB;
    const { clock, models, states, cotenantReads } = setup({ cotenant: () => cotenant, loadRetry: WRITE_UP });
    const first = models.acquire("small");
    const second = models.acquire("small");
    await clock.advanceAsync(0);
    expect(states().small).toBe("loading");
    expect(models.status()[0]?.reason).toBe(
      "load attempt 1 of 2 failed, next in 2000 ms: CUDA out of memory. Tried to allocate 2.25 GiB (GPU 0; 8.00 GiB total capacity; 0.50 GiB already allocated; 1536.00 MiB free)",
    );
    cotenant = 0;
    await clock.advanceAsync(1999);
    expect(cotenantReads).toEqual([0]);
    await clock.advanceAsync(1);
    expect(cotenantReads).toEqual([0, 2000]);
    expect(states().small).toBe("loading");
    await clock.advanceAsync(100); // the retried load takes the model's loadMs
    expect((await first).model.name).toBe("small");
    expect((await second).model.name).toBe("small");
    expect(states().small).toBe("ready");
    expect(models.status()[0]?.reason).toBe(undefined);
    expect(models.loadRetryStats()).toEqual({ small: { loaded: 1, failed: 0, lastWaitMs: 2000 } });
  });

  it("gives up after max_attempts: failed with the last attempt's error, one wait of 2 s", async () => {
    const { clock, models, states, cotenantReads } = setup({ cotenant: () => 6 * GiB, loadRetry: WRITE_UP });
    const p = models.acquire("small");
    const settled = p.catch((e: unknown) => e);
    await clock.advanceAsync(10_000);
    expect(await settled).toBeInstanceOf(GpuOutOfMemoryError);
    expect(cotenantReads).toEqual([0, 2000]);
    expect(states().small).toBe("failed");
    expect(models.loadRetryStats()).toEqual({ small: { loaded: 0, failed: 1, lastWaitMs: 2000 } });
  });

  it("off by default: one attempt, no wait", async () => {
    const { models, states, cotenantReads } = setup({ cotenant: () => 6 * GiB });
    await expect(models.acquire("small")).rejects.toThrow(GpuOutOfMemoryError);
    expect(cotenantReads).toEqual([0]);
    expect(states().small).toBe("failed");
    expect(models.loadRetryStats()).toEqual({});
  });
});

async function loaded<T>(clock: ManualClock, p: Promise<T>, ms: number): Promise<T> {
  await clock.advanceAsync(ms);
  return p;
}

describe("ModelManager verifyModel (write-up 004: POST /v1/models/{id}/verify)", () => {
  it("takes exactly the model's verifyMs, neither loads nor unloads, and records its seconds", async () => {
    const { clock, ledger, models, states } = setup({
      extra: [{ ...model("checked", "gpu", 64 * MiB, 50), verifyMs: 20 }],
    });
    let state: string | undefined;
    void models.verifyModel("checked").then((s) => (state = s));
    await clock.advanceAsync(19);
    expect(state).toBeUndefined();
    await clock.advanceAsync(1);
    expect(state).toBe("unloaded");
    expect(states().checked).toBe("unloaded");
    expect(ledger.weightsBytes).toBe(0);
    expect(models.verifySeconds()).toEqual({ checked: 0.02 });
  });

  it("a model without verifyMs verifies at once; a loaded one stays ready", async () => {
    const { clock, models } = setup();
    await loaded(clock, models.load("small"), 100);
    await expect(models.verifyModel("small")).resolves.toBe("ready");
    expect(models.verifySeconds()).toEqual({ small: 0 });
  });

  it("an unknown model is ModelNotFoundError; a failed file check is ModelLoadError with the reason", async () => {
    const clock = new ManualClock(T0);
    const models = new ModelManager({
      clock,
      ledger: new VramLedger({ totalBytes: 8 * GiB, reservedBytes: 0 }),
      catalog: [model("bad", "gpu", GiB, 10)],
      minKvBytes: 0,
      defaultKeepAliveMs: 1000,
      temporaryKeepAliveMs: 1000,
      checkFile: (spec) =>
        Promise.resolve(spec.name === "bad" ? "file does not match its SHA-256" : undefined),
    });
    await expect(models.verifyModel("nope")).rejects.toBeInstanceOf(ModelNotFoundError);
    const e = await models.verifyModel("bad").catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ModelLoadError);
    expect((e as Error).message).toBe("model 'bad' failed verification: file does not match its SHA-256");
    expect(models.state("bad")).toBe("unloaded");
  });
});
