import { askCompletion, generatedModel, until, useLlamaService, type Answer } from "./engine-service.js";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFileCorruption } from "../../../harness/faults/kinds/model-file-corruption.js";
import { readHeartbeat } from "../../../reference-service/ipc/protocol.js";
import { generateModel } from "../../../reference-service/llama/model-cache.js";
import { LlamaRuntime, openLlama } from "../../../reference-service/llama/runtime.js";
import { faultContext } from "../../harness/faults/helpers.js";

/** The real engine on a tiny model the service generates itself at start (catalog `generate`). */
const config = {
  // The worker is local and supervised: probe it again after 500 ms, not the 60 s default.
  breaker: { failureThreshold: 2, halfOpenAfterMs: 500 },
  worker: {
    engine: "llama",
    preload: "tiny",
    llama: { threads: 1, sequences: 1 },
    models: [generatedModel("tiny", "tiny", 3)],
  },
};

const svc = useLlamaService(config);

const ask = (): Promise<Answer> => askCompletion(svc().url, "tiny");

const tinyState = async () => {
  const hb = await readHeartbeat(svc().stateDir);
  return hb.ok ? { pid: hb.heartbeat.pid, ageMs: hb.ageMs, tiny: hb.heartbeat.models[0] } : undefined;
};

describe("model-file-corruption on the real engine", () => {
  it("fallbacks answer while the file is bad, the worker stays live, full service returns after restore", async () => {
    expect(await ask()).toMatchObject({ status: 200, level: "full" });
    const ctx = faultContext({ stateDir: svc().stateDir }, "worker", "corrupt-1");
    const state = await modelFileCorruption.inject(
      modelFileCorruption.params.parse({ mode: "tensor-data", bytes: 4096 }),
      ctx,
    );
    try {
      // The resident model keeps serving from memory; a reload is what reads the file. Kill
      // the worker, as a crash would: the supervisor's fresh worker must load from disk.
      const oldPid = await svc().workerPid();
      process.kill(oldPid, "SIGKILL");
      const failed = await until(30_000, async () => {
        const st = await tinyState();
        return st && st.pid !== oldPid && st.tiny?.state === "failed" ? st : undefined;
      });
      // tensor-data damage loads silently in llama.cpp (GGUF has no checksum): the hash catches it.
      expect(failed.tiny?.reason).toMatch(/does not match its SHA-256/);

      const during = [await ask(), await ask(), await ask()];
      for (const r of during) {
        expect(r.status).toBe(200);
        expect(r.level).not.toBe("full");
        expect(r.fallback).not.toBeNull();
      }
      // Not hung: the same worker keeps beating (fresh heartbeat) and the load attempt those
      // requests started ends in "failed". A heartbeat read at once may catch it "loading"
      // (hashing the file); a hung load would stay there past the bound.
      const after = await until(10_000, async () => {
        const st = await tinyState();
        return st?.tiny?.state === "failed" ? st : undefined;
      });
      expect(after.pid).toBe(failed.pid);
      expect(after.ageMs).toBeLessThan(1000);
    } finally {
      await modelFileCorruption.revert(state, { clock: ctx.clock });
    }
    // Restored: a later request's load passes the hash and the primary answers again.
    const full = await until(15_000, async () => {
      const r = await ask();
      return r.level === "full" ? r : undefined;
    });
    expect(full.status).toBe(200);
    // The heartbeat is periodic: it may still carry the state from before this load.
    const ready = await until(5_000, async () =>
      (await tinyState())?.tiny?.state === "ready" ? true : undefined,
    );
    expect(ready).toBe(true);
  }, 90_000);
});

describe("llama.cpp itself on corrupted files (no hash in the catalog)", () => {
  let dir: string;
  let runtime: LlamaRuntime;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fl-corrupt-"));
    runtime = await LlamaRuntime.create({
      threads: 1,
      sequences: 1,
      loadTimeoutMs: 30_000,
      onLoadHung: () => undefined,
    });
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("refuses header damage and truncation with a reason; tensor-data damage loads", async () => {
    const m = await generateModel({ size: "tiny", seed: 3, dir });
    const spec = (name: string, ggufPath: string) => ({
      ...config.worker.models[0],
      name,
      sizeBytes: m.bytes,
      embeddingDim: 16,
      device: "cpu" as const,
      task: "generate" as const,
      ggufPath,
      generate: undefined,
    });
    const outcomes: Record<string, string | undefined> = {};
    for (const mode of ["header", "truncate", "tensor-data"] as const) {
      const file = join(dir, `${mode}.gguf`);
      await copyFile(m.path, file);
      const state = await modelFileCorruption.inject(
        modelFileCorruption.params.parse({ mode, file }),
        faultContext({ stateDir: dir }, "worker", `c-${mode}`),
      );
      outcomes[mode] = await runtime.load(spec(mode, file));
      await modelFileCorruption.revert(state, { clock: faultContext({}, "worker").clock });
      expect((await readFile(file)).equals(await readFile(m.path))).toBe(true);
    }
    expect(outcomes.header).toMatch(/llama\.cpp could not load/);
    expect(outcomes.truncate).toMatch(/llama\.cpp could not load/);
    expect(outcomes["tensor-data"]).toBeUndefined();
    await runtime.unload();
  }, 60_000);
});

describe("the CUDA path on a machine without a GPU", () => {
  it("fails with the reason and the setting to change, not a crash or a silent CPU fallback", async () => {
    await expect(openLlama(1, "cuda")).rejects.toThrow(
      /prebuilt CUDA binary did not load \(NoBinaryFoundError.*\): it needs a CUDA device and driver; set worker\.llama\.gpu: off/,
    );
  }, 60_000);
});
