import { describe, expect, it } from "vitest";
import { describeFaultKinds, formatFaultKinds, paramDocs } from "../../../harness/faults/describe.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { validateFault } from "../../../harness/faults/validate.js";
import { netLatency } from "../../../harness/faults/kinds/net-latency.js";

const targets = ["api", "worker", "spool", "gpu", "link:api", "load"];

describe("the fault registry", () => {
  it("lists every kind once, under its own name", () => {
    expect(Object.entries(FAULT_KINDS).map(([k, inj]) => [k, inj.kind])).toEqual(
      Object.keys(FAULT_KINDS).map((k) => [k, k]),
    );
    expect(Object.keys(FAULT_KINDS)).toEqual([
      "process-kill",
      "process-term",
      "process-freeze",
      "process-restart",
      "replicas-kill",
      "lb-outage",
      "ipc-corruption",
      "gpu-oom",
      "model-file-corruption",
      "model-load-hang",
      "host-oom",
      "cpu-quota",
      "cpu-burn",
      "net-latency",
      "net-bandwidth",
      "net-slow-close",
      "net-timeout",
      "net-reset-peer",
      "net-slicer",
      "net-limit-data",
      "net-down",
      "load-burst",
      "client-disconnect",
      "container-kill",
      "container-stop",
      "container-restart",
      "container-pause",
      "container-memory-limit",
      "container-network-disconnect",
    ]);
  });
});

describe("validateFault", () => {
  const ok = {
    id: "f",
    kind: "net-latency",
    target: "link:api",
    params: { latency: 100 },
    startMs: 0,
    durationMs: 1000,
  };

  it("accepts a valid fault", () => {
    expect(validateFault(ok, targets)).toEqual([]);
  });

  it("names the field of every problem, under the given prefix", () => {
    expect(
      validateFault(
        { ...ok, target: "link:db", params: { latency: -1, colour: "red" }, durationMs: -5 },
        targets,
        "faults[3]",
      ),
    ).toEqual([
      {
        path: "faults[3].durationMs",
        message: "must be a positive duration, got -5",
        hint: "omit the duration for an instant fault",
      },
      {
        path: "faults[3].target",
        message: 'unknown target "link:db"',
        hint: `one of: ${targets.join(", ")}`,
      },
      { path: "faults[3].params.latency", message: "Too small: expected number to be >=0" },
      { path: "faults[3].params", message: 'Unrecognized key: "colour"' },
    ]);
  });

  it("rejects an unknown kind, a target of the wrong role and overlapping repeats", () => {
    expect(validateFault({ ...ok, kind: "meteor" }, targets).map((i) => [i.path, i.message])).toEqual([
      ["kind", 'unknown fault kind "meteor"'],
    ]);
    expect(
      validateFault({ ...ok, target: "worker" }, targets).map((i) => [i.path, i.message, i.hint]),
    ).toEqual([["target", 'net-latency cannot aim at "worker"', "it aims at: link"]]);
    expect(validateFault({ ...ok, repeat: { everyMs: 500, times: 0 } }, targets).map((i) => i.path)).toEqual([
      "repeat.times",
      "repeat.everyMs",
    ]);
    expect(validateFault({ ...ok, startMs: -1 }, targets).map((i) => i.path)).toEqual(["startMs"]);
  });
});

describe("describe (faultline list)", () => {
  it("derives parameter docs from the zod schema", () => {
    expect(paramDocs(netLatency.params)).toEqual([
      { name: "latency", type: "integer", required: true, constraints: ">= 0" },
      { name: "jitter", type: "integer", required: false, default: 0, constraints: ">= 0" },
      {
        name: "stream",
        type: "enum",
        required: false,
        default: "downstream",
        constraints: "upstream | downstream",
      },
      { name: "toxicity", type: "number", required: false, default: 1, constraints: ">= 0, <= 1" },
    ]);
  });

  it("formats every kind for the terminal", () => {
    const text = formatFaultKinds(describeFaultKinds());
    expect(text.split("\n\n").length).toBe(Object.keys(FAULT_KINDS).length);
    expect(text.split("\n\n")[0]).toBe(
      [
        "process-kill  [targets: api, worker, command]",
        "  Kill a process at once with SIGKILL (a crash: no cleanup, no drain)",
        '    scope: enum, optional, auto | process | group (default "auto")',
      ].join("\n"),
    );
  });
});
