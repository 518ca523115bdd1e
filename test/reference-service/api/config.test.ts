import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import {
  DEFAULT_CONFIG,
  configFlagTable,
  loadConfig,
  parseConfigArgs,
} from "../../../reference-service/config.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fl-cfg-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const issuesOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof InvalidInputError) return e.issues;
    throw e;
  }
  throw new Error("expected InvalidInputError");
};

describe("config", () => {
  it("derives one flag per threshold from the config's leaves", () => {
    const flags = configFlagTable();
    expect(flags.get("--breaker.failure-threshold")).toEqual({
      path: ["breaker", "failureThreshold"],
      example: 5,
    });
    expect(flags.get("--state-dir")?.path).toEqual(["stateDir"]);
    expect(flags.get("--supervisor.first-restart-immediate")?.example).toEqual(true);
  });

  it("defaults <- file (YAML) <- flags", async () => {
    const file = join(dir, "c.yaml");
    await writeFile(file, "breaker:\n  failureThreshold: 3\n  halfOpenAfterMs: 2000\nport: 8080\n");
    const c = await loadConfig([
      "--config",
      file,
      "--port",
      "0",
      "--breaker.half-open-after-ms=500",
      "--breaker.close-on-fresh-worker",
      "false",
      "--fallback.static",
      "false",
    ]);
    expect(c.breaker).toEqual({ failureThreshold: 3, halfOpenAfterMs: 500, closeOnFreshWorker: false });
    expect([c.port, c.fallback.static, c.admission]).toEqual([0, false, DEFAULT_CONFIG.admission]);
  });

  it("reports every bad field at once, by path, with the file", async () => {
    const file = join(dir, "bad.json");
    await writeFile(
      file,
      JSON.stringify({ breaker: { failureThreshold: 0 }, admission: { maxQueue: -1 }, bogus: 1 }),
    );
    expect(await issuesOf(loadConfig(["--config", file]))).toEqual([
      { file, path: "breaker.failureThreshold", message: "Too small: expected number to be >0" },
      { file, path: "admission.maxQueue", message: "Too small: expected number to be >=0" },
      { file, path: "bogus", message: "unknown setting", hint: "remove it or fix its spelling" },
    ]);
  });

  it("refuses unknown flags and flags without values", () => {
    expect(() => parseConfigArgs(["--nope", "1"])).toThrow(/--nope: unknown flag/);
    expect(() => parseConfigArgs(["--port"])).toThrow("--port: needs a value");
  });

  it("a flag with a non-number where a number belongs names the field", async () => {
    expect(await issuesOf(loadConfig(["--admission.max-concurrent", "lots"]))).toEqual([
      { path: "admission.maxConcurrent", message: "Invalid input: expected number, received NaN" },
    ]);
  });
});
