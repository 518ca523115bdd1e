import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { gpuOom } from "../../../harness/faults/kinds/gpu-oom.js";
import { loadBurst } from "../../../harness/faults/kinds/load-burst.js";
import { Sandbox, faultContext } from "./helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

describe("gpu-oom", () => {
  it("reserves a fraction of capacity in a co-tenant file and revert deletes it", async () => {
    const stateDir = await sandbox.tempDir();
    const ctx = faultContext(
      { stateDir, gpuTotalBytes: () => Promise.resolve(8_000_000_000) },
      "gpu",
      "occ1",
    );
    const state = await gpuOom.inject(gpuOom.params.parse({ fraction: 0.75 }), ctx);
    const dir = join(stateDir, STATE_FILES.gpuCotenants);
    expect(state).toEqual({ file: join(dir, "faultline-occ1.json") });
    expect(await readdir(dir)).toEqual(["faultline-occ1.json"]);
    expect(JSON.parse(await readFile(state.file, "utf8"))).toEqual({
      bytes: 6_000_000_000,
      owner: "faultline gpu-oom",
      createdAt: "2023-11-14T22:13:20.000Z",
    });
    await gpuOom.revert(state, { clock: ctx.clock });
    expect(await readdir(dir)).toEqual([]);
    await gpuOom.revert(state, { clock: ctx.clock }); // idempotent
  });

  it("absolute bytes; revertPending finds the file from the occurrence id alone", async () => {
    const stateDir = await sandbox.tempDir();
    const ctx = faultContext({ stateDir }, "gpu", "occ2");
    await gpuOom.inject(gpuOom.params.parse({ bytes: 1234 }), ctx);
    const dir = join(stateDir, STATE_FILES.gpuCotenants);
    expect(JSON.parse(await readFile(join(dir, "faultline-occ2.json"), "utf8")).bytes).toBe(1234);
    await gpuOom.revertPending?.(
      { bytes: 1234 },
      { occurrenceId: "occ2", targetName: "gpu", stateDir, toxiproxy: null, pids: {} },
      { clock: ctx.clock },
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("needs exactly one of fraction and bytes, and a capacity for fractions", async () => {
    const both = gpuOom.params.safeParse({ fraction: 0.5, bytes: 10 });
    expect(both.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["fraction", "give exactly one of fraction or bytes"],
    ]);
    const tooBig = gpuOom.params.safeParse({ fraction: 1.5 });
    expect(tooBig.error?.issues.map((i) => i.path.join("."))).toEqual(["fraction"]);
    const stateDir = await sandbox.tempDir();
    await expect(gpuOom.inject({ fraction: 0.5 }, faultContext({ stateDir }, "gpu"))).rejects.toThrow(
      'target "gpu" reports no GPU capacity',
    );
  });
});

describe("load-burst", () => {
  it("sets the multiplier and revert sets it back to 1", async () => {
    const seen: number[] = [];
    const load = { setRateMultiplier: (m: number) => void seen.push(m) };
    const clock = new ManualClock();
    const state = await loadBurst.inject({ multiplier: 4 }, { ...faultContext({}, "load"), load });
    await loadBurst.revert(state, { clock, load });
    expect(seen).toEqual([4, 1]);
    expect(loadBurst.params.safeParse({ multiplier: 0 }).error?.issues[0]?.path).toEqual(["multiplier"]);
  });
});
