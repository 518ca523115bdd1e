import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { parseScenario } from "../../../harness/scenario/load.js";

const scenario = (load: string, slos: string): string => `name: retries
target: { kind: url, baseUrl: "http://127.0.0.1:9" }
load:
  rate: 10
  duration: 5s
  mix: [{ kind: chat, model: m }]
${load}
slos:
${slos}`;

const issues = (text: string) => {
  const r = parseScenario(text, "retries.yaml", FAULT_KINDS);
  return r.ok ? [] : r.issues.map((i) => [i.path, i.message, i.hint]);
};

describe("SLOs on retries need a load that retries", () => {
  it("refuses retry-after and attempts: final without load.honourRetryAfter, naming the field and the fix", () => {
    expect(
      issues(
        scenario(
          "",
          "  - { kind: retry-after, min: 0.99 }\n  - { kind: availability, min: 0.999, attempts: final }",
        ),
      ),
    ).toEqual([
      [
        "slos[0].kind",
        '"retry-after" needs a load that retries shed answers',
        "add `honourRetryAfter: true` under load",
      ],
      [
        "slos[1].attempts",
        '"final" counts a retried request by its retry, and this load sends no retries',
        "add `honourRetryAfter: true` under load, or remove attempts",
      ],
    ]);
  });

  it("accepts them with honourRetryAfter, with defaults filled in", () => {
    const r = parseScenario(
      scenario(
        "  honourRetryAfter: true",
        "  - { kind: retry-after, min: 0.99 }\n  - { kind: availability, min: 0.999, attempts: final }",
      ),
      "retries.yaml",
      FAULT_KINDS,
    );
    expect(r.ok && r.value.scenario.slos).toEqual([
      { kind: "retry-after", min: 0.99, degradedCountsAsGood: true, minRetries: 1 },
      // No level default is filled in any more: sloLevel() resolves an absent level to full
      // (degradedCountsAsGood is only the older synonym, no longer defaulted to true).
      { kind: "availability", min: 0.999, attempts: "final" },
    ]);
    expect(r.ok && r.value.scenario.load.honourRetryAfter).toBe(true);
  });

  it("refuses honourRetryAfter under load.driver: k6", () => {
    expect(
      issues(scenario("  driver: k6\n  honourRetryAfter: true", "  - { kind: availability, min: 0.9 }")),
    ).toEqual([
      [
        "load.honourRetryAfter",
        "retries at Retry-After are sent by the built-in generator only",
        "remove load.honourRetryAfter, or remove load.driver to use the built-in load generator",
      ],
    ]);
  });
});
