import { describe, expect, it } from "vitest";
import { parseLdd, productionPackageDirs } from "../../../harness/docker/rootfs.js";
import { isRunNotPossibleError } from "../../../common/errors.js";

describe("parseLdd", () => {
  it("keeps resolved libraries and the loader, drops the vDSO", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffc)",
      "\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007fab)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fab)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007fab)",
      "",
    ].join("\n");
    expect(parseLdd(out)).toEqual([
      "/lib/x86_64-linux-gnu/libdl.so.2",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });

  it("a static binary needs no libraries", () => {
    expect(parseLdd("\tstatically linked\n")).toEqual([]);
  });

  it("a missing library is an error naming it", () => {
    let caught: unknown;
    try {
      parseLdd("\tlibfoo.so.1 => not found\n");
    } catch (e) {
      caught = e;
    }
    expect(isRunNotPossibleError(caught)).toBe(true);
    expect((caught as Error).message).toBe("ldd: a shared library is missing: libfoo.so.1 => not found");
  });
});

describe("productionPackageDirs", () => {
  it("keeps top-level production packages, drops dev, devOptional and nested ones", () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        "": { name: "faultline" },
        "node_modules/zod": {},
        "node_modules/@grpc/grpc-js": {},
        "node_modules/vitest": { dev: true },
        "node_modules/fsevents": { devOptional: true },
        "node_modules/undici": { optional: true },
        "node_modules/cockatiel/node_modules/inner": {},
      },
    };
    expect(productionPackageDirs(lock)).toEqual([
      "node_modules/@grpc/grpc-js",
      "node_modules/undici",
      "node_modules/zod",
    ]);
  });

  it("an old lockfile without `packages` is refused with a fix", () => {
    expect(() => productionPackageDirs({ lockfileVersion: 1, dependencies: {} })).toThrow(
      "package-lock.json has no `packages` section",
    );
  });
});
