import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import { sloLevel } from "../../../harness/sla/index.js";

const scenario = (target: string, slos: string, load = ""): string => `name: levels
target: ${target}
load:
  rate: 10
  duration: 5s
  mix: [{ kind: chat, model: m }]
${load}
faults:
  - { id: burst, kind: load-burst, target: load, at: 1s, duration: 1s, params: { multiplier: 2 } }
slos:
${slos}`;
const URL_TARGET = '{ kind: url, baseUrl: "http://127.0.0.1:9" }';

const parse = (text: string) => parseScenario(text, "levels.yaml", FAULT_KINDS);
const issues = (text: string) => {
  const r = parse(text);
  return r.ok ? [] : r.issues.map((i) => [i.path, i.message]);
};
const slos = (yaml: string) => {
  const r = parse(scenario(URL_TARGET, yaml));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value.scenario.slos;
};

describe("level on availability, uptime and time-to-recover SLOs", () => {
  it("defaults to full service and takes degradedCountsAsGood as its older synonym", () => {
    const s = slos(
      [
        "  - { kind: availability, min: 0.9 }",
        "  - { kind: availability, min: 0.9, level: answered }",
        "  - { kind: availability, min: 0.9, degradedCountsAsGood: true }",
        "  - { kind: uptime, min: 0.9, degradedCountsAsGood: false }",
        "  - { kind: uptime, min: 0.9 }",
        "  - { kind: time-to-recover, max: 5s }",
        "  - { kind: time-to-recover, max: 5s, level: answered }",
        "  - { kind: time-to-recover, max: 5s, level: full, degradedCountsAsGood: false }",
      ].join("\n"),
    );
    expect(
      s.map((x) =>
        x.kind === "availability" || x.kind === "uptime" || x.kind === "time-to-recover" ? sloLevel(x) : null,
      ),
    ).toEqual(["full", "answered", "answered", "full", "full", "full", "answered", "full"]);
  });

  it.each([
    ["availability, min: 0.9", "answered", "false"],
    ["uptime, min: 0.9", "full", "true"],
    ["time-to-recover, max: 5s", "answered", "false"],
  ])("refuses %s with level %s and degradedCountsAsGood %s: they disagree", (kind, level, dg) => {
    expect(
      issues(scenario(URL_TARGET, `  - { kind: ${kind}, level: ${level}, degradedCountsAsGood: ${dg} }`)),
    ).toEqual([
      [
        "slos[0].level",
        "level and degradedCountsAsGood disagree: level: answered means degradedCountsAsGood: true, level: full means false; set only level",
      ],
    ]);
  });

  it("refuses a level that is not one of the two", () => {
    const found = issues(scenario(URL_TARGET, "  - { kind: availability, min: 0.9, level: degraded }"));
    expect(found.map(([p]) => p)).toEqual(["slos[0].level"]);
  });
});

describe("target.levels: how the target marks its level", () => {
  const avail = "  - { kind: availability, min: 0.9 }";
  it("accepts a header or a JSON field with the values that mean full or below full", () => {
    const r = parse(
      scenario(
        '{ kind: url, baseUrl: "http://127.0.0.1:9", levels: { header: X-Served-By, full: [primary] } }',
        avail,
      ),
    );
    expect(r.ok && r.value.scenario.target.levels).toEqual({ header: "X-Served-By", full: ["primary"] });
    const j = parse(
      scenario(
        '{ kind: url, baseUrl: "http://127.0.0.1:9", levels: { jsonField: meta.tier, degraded: [cache, canned] } }',
        avail,
      ),
    );
    expect(j.ok && j.value.scenario.target.levels).toEqual({
      jsonField: "meta.tier",
      degraded: ["cache", "canned"],
    });
  });

  it.each([
    [
      "full and degraded both",
      "{ header: x-l, full: [a], degraded: [b] }",
      [
        "target.levels.degraded",
        "levels.full and levels.degraded are two ways to say the same thing; set one of them",
      ],
    ],
    [
      "a header name with a space",
      '{ header: "x served" }',
      ["target.levels.header", "expected an HTTP header name (letters, digits, '-')"],
    ],
    [
      "a field path with an empty part",
      "{ jsonField: meta..tier }",
      ["target.levels.jsonField", "expected a dotted field path such as meta.level"],
    ],
  ])("refuses %s, naming the field", (_name, levels, issue) => {
    expect(
      issues(scenario(`{ kind: url, baseUrl: "http://127.0.0.1:9", levels: ${levels} }`, avail)),
    ).toEqual([issue]);
  });

  it("refuses a target's own marking under load.driver: k6 (its script reads the reference header)", () => {
    expect(
      issues(
        scenario(
          '{ kind: url, baseUrl: "http://127.0.0.1:9", levels: { header: x-served-by } }',
          avail,
          "  driver: k6",
        ),
      ),
    ).toEqual([
      [
        "target.levels",
        "a target's own level marking is read by the built-in generator only (the k6 script reads the reference service's header)",
      ],
    ]);
  });
});
