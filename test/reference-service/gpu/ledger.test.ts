import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GpuOutOfMemoryError } from "../../../reference-service/backend-errors.js";
import { readCotenants } from "../../../reference-service/gpu/cotenants.js";
import { cudaOomMessage } from "../../../reference-service/gpu/cuda-message.js";
import { VramLedger } from "../../../reference-service/gpu/ledger.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe("cudaOomMessage", () => {
  it("reproduces the PyTorch message quoted in vllm#783", () => {
    expect(
      cudaOomMessage({
        deviceIndex: 0,
        triedBytes: 1.63 * GiB,
        totalBytes: 44.56 * GiB,
        allocatedBytes: 27.91 * GiB,
        freeBytes: 565.31 * MiB,
      }),
    ).toBe(
      "CUDA out of memory. Tried to allocate 1.63 GiB (GPU 0; 44.56 GiB total capacity; 27.91 GiB already allocated; 565.31 MiB free)",
    );
  });
});

describe("VramLedger", () => {
  it("accounts overhead, co-tenants, weights and KV", () => {
    const l = new VramLedger({ totalBytes: 8 * GiB, reservedBytes: 512 * MiB });
    l.allocateWeights("m", 2 * GiB);
    l.allocateKv("r1", 100 * MiB);
    l.allocateKv("r1", 28 * MiB);
    l.allocateKv("r2", 64 * MiB);
    l.setCotenantBytes(1 * GiB);
    expect(l.snapshot()).toEqual({
      totalBytes: 8 * GiB,
      reservedBytes: 512 * MiB,
      cotenantBytes: 1 * GiB,
      weightsBytes: 2 * GiB,
      kvBytes: 192 * MiB,
      usedBytes: 512 * MiB + 1 * GiB + 2 * GiB + 192 * MiB,
      freeBytes: 8 * GiB - (512 * MiB + 1 * GiB + 2 * GiB + 192 * MiB),
    });
    expect(l.kvBytesOf("r1")).toBe(128 * MiB);
    l.freeKv("r1");
    l.freeWeights("m");
    expect(l.usedBytes).toBe(512 * MiB + 1 * GiB + 64 * MiB);
  });

  it("throws a CUDA-shaped GpuOutOfMemoryError when a co-tenant leaves too little", () => {
    const l = new VramLedger({ totalBytes: 8 * GiB, reservedBytes: 512 * MiB });
    l.setCotenantBytes(6 * GiB);
    let err: unknown;
    try {
      l.allocateWeights("sim-utility", 2 * GiB, 256 * MiB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuOutOfMemoryError);
    expect((err as Error).message).toBe(
      "CUDA out of memory. Tried to allocate 2.25 GiB (GPU 0; 8.00 GiB total capacity; 0.50 GiB already allocated; 1536.00 MiB free)",
    );
    expect(l.weightsBytes).toBe(0);
    l.setCotenantBytes(0);
    l.allocateWeights("sim-utility", 2 * GiB, 256 * MiB);
    expect(l.weightsBytes).toBe(2 * GiB);
  });

  it("reports 0 free (never negative) when a co-tenant over-commits the device", () => {
    const l = new VramLedger({ totalBytes: 4 * GiB, reservedBytes: 0 });
    l.allocateWeights("m", 3 * GiB);
    l.setCotenantBytes(2 * GiB);
    expect([l.freeBytes, l.usage]).toEqual([0, 1.25]);
    expect(() => l.allocateKv("r", 1)).toThrow(GpuOutOfMemoryError);
  });
});

describe("readCotenants", () => {
  it("sums valid reservation files and names the invalid ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-cotenants-"));
    try {
      await writeFile(join(dir, "a.json"), JSON.stringify({ bytes: GiB, owner: "harness", createdAt: "x" }));
      await writeFile(join(dir, "b.json"), JSON.stringify({ bytes: 512 * MiB }));
      await writeFile(join(dir, "bad.json"), "{oops");
      await writeFile(join(dir, "neg.json"), JSON.stringify({ bytes: -1 }));
      await writeFile(join(dir, "note.txt"), "ignored");
      const r = await readCotenants(dir);
      expect({ bytes: r.bytes, invalid: [...r.invalid].sort() }).toEqual({
        bytes: GiB + 512 * MiB,
        invalid: ["bad.json", "neg.json"],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("treats a missing directory as no co-tenants", async () => {
    expect(await readCotenants(join(tmpdir(), "faultline-does-not-exist-xyz"))).toEqual({
      bytes: 0,
      invalid: [],
    });
  });
});
