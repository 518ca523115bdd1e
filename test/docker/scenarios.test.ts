import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../harness/scenario/load.js";
import { FAULT_KINDS } from "../../harness/faults/registry.js";
import type { AnyInjector } from "../../harness/faults/injector.js";
import { parse } from "yaml";

const dir = fileURLToPath(new URL("../../scenarios/docker/", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("scenarios/docker", () => {
  it("holds the four container scenarios", () => {
    expect(files).toEqual([
      "01-container-crash.yaml",
      "02-container-pause.yaml",
      "03-container-memory-limit.yaml",
      "04-container-partition.yaml",
    ]);
  });

  it.each(files)("%s parses strictly against the scenario schema and the Docker fault kinds", (file) => {
    const text = readFileSync(`${dir}${file}`, "utf8");
    const result = parseScenario(text, file, FAULT_KINDS);
    // The loader still refuses `kind: docker` targets until the runner starts the Docker
    // adapter (harness/targets/index.ts); every other check (schema, fault kinds and their
    // params, targets, timeline, SLOs) must pass.
    const issues = result.ok ? [] : result.issues.filter((i) => i.path !== "target.kind");
    expect(issues).toEqual([]);
    const faults = (parse(text) as { faults: { kind: string; target: string; params?: unknown }[] }).faults;
    for (const f of faults) {
      const injector = (FAULT_KINDS as Record<string, AnyInjector>)[f.kind];
      expect([f.target, injector.params.safeParse(f.params ?? {}).success]).toEqual(["container:api", true]);
    }
  });
});
