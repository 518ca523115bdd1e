import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { run } from "../../../harness/cli/program.js";
import { runScenarios } from "../../../harness/cli/commands/run-scenarios.js";
import { captureRuntime, spawnCli } from "./helpers.js";

const FIXTURES = "test/fixtures/scenarios";

/**
 * Each malformed scenario, and the one line the CLI prints for it (checked by hand: the file
 * and line, the field path, expected vs found, and the fix). Paths are relative to the repo.
 */
const EXPECTED: readonly (readonly [string, string])[] = [
  [
    "01-bad-yaml.yaml",
    "01-bad-yaml.yaml:5: (root): invalid YAML: Flow map in block collection must be sufficiently indented and end with a } (fix: check indentation and quoting on that line)",
  ],
  [
    "02-unknown-top-field.yaml",
    '02-unknown-top-field.yaml:2: nmae: unknown field "nmae" (fix: remove it or check its spelling (scenarios/scenario.schema.json lists every field))',
  ],
  [
    "03-unknown-fault-field.yaml",
    '03-unknown-fault-field.yaml:12: faults[0].durration: unknown field "durration" (fix: remove it or check its spelling (scenarios/scenario.schema.json lists every field))',
  ],
  ["04-wrong-type-rate.yaml", '04-wrong-type-rate.yaml:5: load.rate: expected a number, found "fast"'],
  [
    "05-negative-duration.yaml",
    '05-negative-duration.yaml:12: faults[0].duration: expected a non-negative duration, found "-5s"',
  ],
  [
    "06-bare-number-duration.yaml",
    '06-bare-number-duration.yaml:6: load.duration: expected a duration string such as "5s" or "250ms", found number 15',
  ],
  [
    "07-fault-after-run.yaml",
    "07-fault-after-run.yaml:11: faults[0].at: fault runs until 30s, after the run ends at 15s (fix: start it earlier, shorten it, or lengthen load.duration)",
  ],
  [
    "08-fault-ends-after-run.yaml",
    "08-fault-ends-after-run.yaml:12: faults[0].duration: fault runs until 20s, after the run ends at 15s (fix: start it earlier, shorten it, or lengthen load.duration)",
  ],
  [
    "09-unknown-fault-kind.yaml",
    '09-unknown-fault-kind.yaml:9: faults[0].kind: unknown fault kind "process-explode" (fix: one of: client-disconnect, container-kill, container-memory-limit, container-network-disconnect, container-pause, container-restart, container-stop, cpu-burn, cpu-quota, gpu-oom, host-oom, ipc-corruption, lb-outage, load-burst, model-file-corruption, model-load-hang, net-bandwidth, net-down, net-latency, net-limit-data, net-reset-peer, net-slicer, net-slow-close, net-timeout, process-freeze, process-kill, process-restart, process-term, replicas-kill (see `faultline list`))',
  ],
  [
    "10-unknown-fault-target.yaml",
    '10-unknown-fault-target.yaml:10: faults[0].target: unknown target "database" for a reference target (fix: this target offers: api, worker, spool, gpu, host, load, link:client-api)',
  ],
  [
    "11-kind-cannot-aim-at-target.yaml",
    '11-kind-cannot-aim-at-target.yaml:10: faults[0].target: fault kind "net-latency" cannot aim at "worker" (fix: it aims at: link)',
  ],
  ["12-missing-slos.yaml", "12-missing-slos.yaml:1: slos: missing required field (expected a list)"],
  [
    "13-empty-slos.yaml",
    "13-empty-slos.yaml:7: slos: expected at least one SLO, found none (fix: add one, e.g. `- { kind: availability, min: 0.999 }`)",
  ],
  [
    "14-bad-fault-param-type.yaml",
    '14-bad-fault-param-type.yaml:13: faults[0].params.latency: expected a number, found "lots"',
  ],
  [
    "15-missing-fault-param.yaml",
    "15-missing-fault-param.yaml:8: faults[0].params.latency: missing required field (expected a number)",
  ],
  [
    "16-overlapping-faults.yaml",
    '16-overlapping-faults.yaml:16: faults[1].at: fault "f2" overlaps "f1" (same kind "process-freeze" on the same target "worker") (fix: start it after the other one ends, or merge the two)',
  ],
  [
    "17-unknown-target-kind.yaml",
    '17-unknown-target-kind.yaml:3: target.kind: expected one of "reference", "command", "url", "docker", found "kubernetes"',
  ],
  [
    "18-availability-above-one.yaml",
    "18-availability-above-one.yaml:9: slos[0].min: expected a number <= 1, found number 99.9",
  ],
  [
    "19-recover-slo-unknown-fault.yaml",
    '19-recover-slo-unknown-fault.yaml:17: slos[1].fault: unknown fault id "f9" (fix: one of: f1)',
  ],
  ["20-missing-load.yaml", "20-missing-load.yaml:1: load: missing required field (expected a mapping)"],
];

const unused = (): Promise<never> => Promise.reject(new Error("not used by this test"));

function deps() {
  return {
    version: "test",
    catalog: FAULT_KINDS,
    runScenarios,
    report: unused,
    cleanup: unused,
    serveReference: unused,
    toxiproxy: unused,
  };
}

describe("malformed scenarios: exit 2, the field named, nothing started", { timeout: 180_000 }, () => {
  let runsDir: string;
  beforeAll(async () => {
    runsDir = await mkdtemp(join(tmpdir(), "faultline-malformed-"));
  });
  afterAll(async () => {
    await rm(runsDir, { recursive: true, force: true });
  });

  it("has twenty fixtures, one per expectation", async () => {
    const names = (await readdir(FIXTURES)).filter((n) => n.endsWith(".yaml")).sort();
    expect(names).toEqual(EXPECTED.map(([file]) => file));
  });

  it.each(EXPECTED)("%s (in process: exact message)", async (file, line) => {
    const rt = captureRuntime(process.cwd());
    const code = await run(["run", `${FIXTURES}/${file}`, "--runs-dir", runsDir], rt, deps());
    await new Promise((r) => setImmediate(r));
    expect(code).toBe(2);
    expect(rt.err()).toBe(
      `faultline: invalid input (1 problem):\n  ${FIXTURES}/${line}\nhint: \`faultline validate FILE\` checks a scenario without running it\n`,
    );
    expect(rt.out()).toBe("");
  });

  it("the real CLI, each file on its own: exit 2, the field path printed, no stack, no run directory", async () => {
    const results: { file: string; code: number | null; stderr: string }[] = [];
    // Four at a time: each is a fresh Node process with the TypeScript loader.
    for (let i = 0; i < EXPECTED.length; i += 4) {
      const batch = EXPECTED.slice(i, i + 4);
      results.push(
        ...(await Promise.all(
          batch.map(async ([file]) => ({
            file,
            ...(await spawnCli(["run", `${FIXTURES}/${file}`, "--runs-dir", runsDir])),
          })),
        )),
      );
    }
    for (const [file, line] of EXPECTED) {
      const r = results.find((x) => x.file === file);
      expect(r?.code, file).toBe(2);
      expect(r?.stderr.split("\n")[1], file).toBe(`  ${FIXTURES}/${line}`);
      expect(r?.stderr, file).not.toMatch(/\n\s+at /);
    }
    expect(await readdir(runsDir)).toEqual([]);
  });

  it("the real CLI, all files at once: every problem reported in one go", async () => {
    const r = await spawnCli(["validate", FIXTURES]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toEqual([
      "faultline: invalid input (20 problems):",
      ...EXPECTED.map(([, line]) => `  ${FIXTURES}/${line}`),
      "hint: `faultline validate FILE` checks a scenario without running it",
      "",
    ]);
  });
});
