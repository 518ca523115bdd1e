import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { parseScenario } from "../../../harness/scenario/load.js";

/** What the built-in generator does and k6 cannot is refused at validation (exit 2), by field. */
const scenario = (load: string, extra = ""): string => `name: k6-limits
target: { kind: url, baseUrl: "http://127.0.0.1:9" }
load:
  driver: k6
  rate: 10
  duration: 5s
  mix: [{ kind: chat, model: m }]
${load}
slos: [{ kind: availability, min: 0.9 }]
${extra}`;

describe("load.driver: k6 semantic checks", () => {
  it("refuses poisson arrivals and abort conditions, naming each field and the fix", () => {
    const r = parseScenario(
      scenario("  arrivals: poisson", "abort: [{ kind: availability-below, min: 0.5, over: 5s }]\n"),
      "k6.yaml",
      FAULT_KINDS,
    );
    expect(r.ok ? [] : r.issues.map((i) => [i.path, i.message, i.hint])).toEqual([
      [
        "load.arrivals",
        "poisson arrivals are not kept by load.driver: k6 (k6 spaces arrivals evenly)",
        "remove load.arrivals, or remove load.driver to use the built-in load generator",
      ],
      [
        "abort",
        "abort conditions are not checked under load.driver: k6 (k6's output is read when it exits)",
        "remove abort, or remove load.driver to use the built-in load generator",
      ],
    ]);
  });

  it("accepts constant arrivals without abort conditions; builtin is the default and keeps poisson", () => {
    const k6 = parseScenario(scenario("  arrivals: constant"), "k6.yaml", FAULT_KINDS);
    expect(k6.ok ? k6.value.scenario.load.driver : k6.issues).toBe("k6");
    const builtin = parseScenario(
      scenario("  arrivals: poisson").replace("  driver: k6\n", ""),
      "builtin.yaml",
      FAULT_KINDS,
    );
    expect(
      builtin.ok
        ? [builtin.value.scenario.load.driver, builtin.value.scenario.load.arrivals]
        : builtin.issues,
    ).toEqual(["builtin", "poisson"]);
  });
});
