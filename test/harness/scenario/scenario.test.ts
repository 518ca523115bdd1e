import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { formatDuration, parseDuration } from "../../../harness/scenario/duration.js";
import { formatPlan } from "../../../harness/scenario/format-plan.js";
import { loadScenarios, parseScenario } from "../../../harness/scenario/load.js";
import { buildPlan } from "../../../harness/scenario/plan.js";
import { scenarioJsonSchema } from "../../../harness/scenario/schema.js";

const base = (extra: string): string => `name: t
target: { kind: reference }
load: { rate: 10, duration: 20s }
slos: [{ kind: availability, min: 0.999 }]
${extra}`;

function issues(text: string) {
  const r = parseScenario(text, "s.yaml", FAULT_KINDS);
  return r.ok ? [] : r.issues.map((i) => `${i.file}: ${i.path}: ${i.message}`);
}

describe("durations", () => {
  it.each([
    ["250ms", 250],
    ["20s", 20_000],
    ["1.5m", 90_000],
    ["2h", 7_200_000],
    ["0s", 0],
    ["5", null],
    ["-5s", null],
    ["5 s", null],
  ])("%s -> %s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it("formats the way a scenario writes them", () => {
    expect([0, 250, 1500, 20_000, 90_000, 120_000, 3_600_000].map(formatDuration)).toEqual([
      "0s",
      "250ms",
      "1.5s",
      "20s",
      "90s",
      "2m",
      "1h",
    ]);
  });
});

describe("scenario schema and loader", () => {
  it("scenarios/scenario.schema.json is the current export (regenerate with `faultline schema --out ...`)", async () => {
    const committed: unknown = JSON.parse(await readFile("scenarios/scenario.schema.json", "utf8"));
    expect(committed).toEqual(scenarioJsonSchema());
  });

  it("every shipped scenario is valid", async () => {
    const loaded = await loadScenarios(["scenarios/ci", "scenarios/claims"], process.cwd(), FAULT_KINDS);
    expect(loaded.length).toBeGreaterThanOrEqual(19);
  });

  it("reports every problem of a file at once, each located by line and path", () => {
    const text = `name: t
target: { kind: reference }
load: { rate: -1, duration: 20s, colour: red }
slos: [{ kind: latency, percentile: 90, max: 1s }]
`;
    expect(issues(text)).toEqual([
      "s.yaml:3: load.rate: expected a number > 0, found number -1",
      's.yaml:3: load.colour: unknown field "colour"',
      "s.yaml:4: slos[0].percentile: expected one of 50, 95, 99, found number 90",
    ]);
  });

  it("instant faults take no duration; lasting ones need one", () => {
    const text = base(`faults:
  - { id: k, kind: process-kill, target: worker, at: 2s, duration: 1s }
  - { id: f, kind: process-freeze, target: worker, at: 5s }
`);
    expect(issues(text)).toEqual([
      "s.yaml:6: faults[0].duration: this fault is instant and takes no duration",
      "s.yaml:7: faults[1].duration: missing required field (how long the fault holds)",
    ]);
  });

  it("repeats must fit the run and must not overlap themselves", () => {
    const text = base(`faults:
  - { id: f, kind: process-freeze, target: worker, at: 2s, duration: 3s, repeat: { every: 2s, times: 3 } }
  - { id: g, kind: process-freeze, target: api, at: 2s, duration: 3s, repeat: { every: 8s, times: 3 } }
`);
    expect(issues(text)).toEqual([
      "s.yaml:6: faults[0].repeat.every: expected at least the fault's duration (3s), found 2s",
      "s.yaml:7: faults[1].repeat: fault runs until 21s, after the run ends at 20s",
    ]);
  });

  it("windows that only touch do not overlap; an instant inside a window of the same kind does", () => {
    const touching = base(`faults:
  - { id: a, kind: process-freeze, target: worker, at: 2s, duration: 3s }
  - { id: b, kind: process-freeze, target: worker, at: 5s, duration: 3s }
`);
    expect(issues(touching)).toEqual([]);
    const twoKills = base(`faults:
  - { id: a, kind: process-kill, target: worker, at: 2s }
  - { id: b, kind: process-kill, target: worker, at: 2s }
`);
    expect(issues(twoKills)).toEqual([
      's.yaml:7: faults[1].at: fault "b" overlaps "a" (same kind "process-kill" on the same target "worker")',
    ]);
  });

  it("reference service options are checked by the service's own config schema", () => {
    const text = `name: t
target:
  kind: reference
  options: { breaker: { failureThreshold: 0 } }
load: { rate: 10, duration: 20s }
slos: [{ kind: availability, min: 0.999 }]
`;
    expect(issues(text)).toEqual([
      "s.yaml:4: target.options.breaker.failureThreshold: Too small: expected number to be >0",
    ]);
  });

  it("an api-upstream link exists only when the reference target asks for it", () => {
    const fault = `faults: [{ id: r, kind: net-reset-peer, target: "link:api-upstream", at: 2s, duration: 2s }]\n`;
    expect(issues(base(fault))).toEqual([
      's.yaml:5: faults[0].target: unknown target "link:api-upstream" for a reference target',
    ]);
    expect(
      issues(base(fault).replace("{ kind: reference }", "{ kind: reference, upstreamLink: true }")),
    ).toEqual([]);
  });
});

describe("plan", () => {
  it("expands repeats, orders by time and integrates the rate over steps and ramps", () => {
    const r = parseScenario(
      `name: p
seed: 3
target: { kind: reference }
load:
  rate: 10
  stages:
    - { duration: 4s, rate: 10 }
    - { duration: 4s, rate: 30, ramp: true }
  duration: 10s
faults:
  - { id: k, kind: process-kill, target: worker, at: 5s, repeat: { every: 3s, times: 2 } }
  - { id: slow, kind: net-latency, target: "link:client-api", at: 1s, duration: 2s, params: { latency: 50 } }
slos: [{ kind: availability, min: 0.999 }]
`,
      "p.yaml",
      FAULT_KINDS,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const plan = buildPlan(r.value.scenario);
    // 4 s at 10/s + 4 s ramping 10 -> 30 (mean 20) + 2 s holding 30 = 40 + 80 + 60.
    expect(plan.plannedRequests).toBe(180);
    expect(plan.faults.map((f) => [f.id, f.startMs, f.endMs])).toEqual([
      ["slow", 1000, 3000],
      ["k#1", 5000, null],
      ["k#2", 8000, null],
    ]);
    expect(formatPlan(plan)).toBe(`scenario p: 10s, about 180 requests, seed 3

load
  0s-4s   10 req/s
  4s-8s   10 req/s -> 30 req/s
  8s-10s  30 req/s

faults
  at     id    kind          target           holds
  1s-3s  slow  net-latency   link:client-api  2s
  5s     k#1   process-kill  worker           instant
  8s     k#2   process-kill  worker           instant
`);
  });
});
