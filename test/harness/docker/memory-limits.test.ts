import { containerMemoryLimit } from "../../../harness/faults/kinds/container-memory-limit.js";
import { describe, expect, it } from "vitest";
import { lowerUpdate, restoreUpdate } from "../../../harness/docker/faults/memory-limits.js";

const MiB = 1024 * 1024;

describe("restoreUpdate", () => {
  it.each([
    [
      "no limit at all -> 1 PiB for both (the API cannot clear a limit)",
      { memory: 0, memorySwap: 0 },
      { Memory: 2 ** 50, MemorySwap: 2 ** 50 },
    ],
    [
      "limit and explicit swap -> exactly those",
      { memory: 512 * MiB, memorySwap: 1024 * MiB },
      { Memory: 512 * MiB, MemorySwap: 1024 * MiB },
    ],
    [
      "limit, swap unset -> Docker's default of memory+swap = 2x",
      { memory: 256 * MiB, memorySwap: 0 },
      { Memory: 256 * MiB, MemorySwap: 512 * MiB },
    ],
    [
      "limit, unlimited swap (-1) -> 1 PiB swap",
      { memory: 256 * MiB, memorySwap: -1 },
      { Memory: 256 * MiB, MemorySwap: 2 ** 50 },
    ],
  ])("%s", (_name, original, expected) => {
    expect(restoreUpdate(original)).toEqual(expected);
  });
});

describe("lowerUpdate", () => {
  it("sets memory+swap equal to the limit so the container cannot swap", () => {
    expect(lowerUpdate(64 * MiB)).toEqual({ Memory: 64 * MiB, MemorySwap: 64 * MiB });
  });
});

describe("container-memory-limit params", () => {
  const parse = (p: unknown) => {
    const r = containerMemoryLimit.params.safeParse(p);
    return r.success ? r.data : r.error.issues.map((i) => i.message);
  };
  it("takes a fixed limit or a headroom over current use, exactly one", () => {
    expect(parse({ limitMiB: 72 })).toEqual({ limitMiB: 72 });
    expect(parse({ headroomMiB: 12 })).toEqual({ headroomMiB: 12 });
    const oneOf = ["give exactly one of limitMiB (a fixed limit) or headroomMiB (current use plus this)"];
    expect(parse({})).toEqual(oneOf);
    expect(parse({ limitMiB: 72, headroomMiB: 12 })).toEqual(oneOf);
  });
  it("describes each form", () => {
    expect([
      containerMemoryLimit.describe({ limitMiB: 72 }, "container:api"),
      containerMemoryLimit.describe({ headroomMiB: 12 }, "container:api"),
    ]).toEqual([
      "limit container:api to 72 MiB of memory (no swap)",
      "limit container:api to its memory use + 12 MiB (no swap)",
    ]);
  });
});
