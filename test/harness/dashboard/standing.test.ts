import { describe, expect, it } from "vitest";
import { emptyCounts, type OutcomeCounts } from "../../../common/outcome.js";
import { budgetOf, sloStanding, type LiveFacts } from "../../../harness/dashboard/index.js";
import type { SecondCounts } from "../../../harness/load/index.js";
import type { SloSpec } from "../../../harness/sla/index.js";

const counts = (c: Partial<OutcomeCounts>): OutcomeCounts => ({ ...emptyCounts(), ...c });
const sec = (second: number, c: Partial<OutcomeCounts>): SecondCounts => ({ second, counts: counts(c) });
const facts = (over: Partial<LiveFacts> = {}): LiveFacts => ({
  totals: counts({ ok: 990, degraded: 5, error: 5 }),
  recentLatency: { count: 100, p50: 10, p95: 200, p99: 600 },
  seconds: [],
  ...over,
});

describe("sloStanding (live, one case per kind and edge)", () => {
  const cases: [string, SloSpec, LiveFacts, ReturnType<typeof sloStanding>][] = [
    [
      "availability met: 995/1000 with degraded good (level answered)",
      { kind: "availability", min: 0.99, level: "answered" },
      facts(),
      { id: "availability-1", state: "meeting", detail: "99.500% >= 99.000%" },
    ],
    [
      "availability at the default level (full): the 5 degraded are down, 990/1000",
      { kind: "availability", min: 0.995 },
      facts(),
      { id: "availability-1", state: "breaching", detail: "99.000% >= 99.500%" },
    ],
    [
      "availability breached when degraded counts as down: 990/1000",
      { kind: "availability", id: "av", min: 0.995, degradedCountsAsGood: false },
      facts(),
      { id: "av", state: "breaching", detail: "99.000% >= 99.500%" },
    ],
    [
      "availability with no answers waits",
      { kind: "availability", min: 0.99 },
      facts({ totals: emptyCounts() }),
      { id: "availability-1", state: "pending", detail: "no answers yet" },
    ],
    [
      "latency p99 600ms > 500ms breaches",
      { kind: "latency", percentile: 99, max: 500 },
      facts(),
      { id: "latency-1", state: "breaching", detail: "p99 600ms <= 500ms (recent)" },
    ],
    [
      "latency p95 200ms <= 250ms meets",
      { kind: "latency", percentile: 95, max: 250 },
      facts(),
      { id: "latency-1", state: "meeting", detail: "p95 200ms <= 250ms (recent)" },
    ],
    [
      "service-time latency is judged at end",
      { kind: "latency", percentile: 99, max: 500, from: "service" },
      facts(),
      { id: "latency-1", state: "pending", detail: "judged at end" },
    ],
    [
      "burn 5 bad / (0.001 x 1000) = 5 > 2",
      { kind: "error-budget-burn", target: 0.999, max: 2 },
      facts(),
      { id: "error-budget-burn-1", state: "breaching", detail: "burn 5.00 <= 2" },
    ],
    [
      "uptime: 2 of 3 one-second windows at >= 99%",
      { kind: "uptime", min: 0.6, window: 1000, threshold: 0.99 },
      facts({
        seconds: [sec(0, { ok: 100 }), sec(1, { ok: 98, error: 2 }), sec(2, { ok: 99, shed: 1 }), sec(3, {})],
      }),
      { id: "uptime-1", state: "meeting", detail: "66.667% of windows up >= 60.000%" },
    ],
    [
      "uptime: 2-second windows merge seconds (0+1 = 197/200 < 99%)",
      { kind: "uptime", min: 0.9, window: 2000, threshold: 0.99 },
      facts({ seconds: [sec(0, { ok: 100 }), sec(1, { ok: 97, error: 3 })] }),
      { id: "uptime-1", state: "breaching", detail: "0.000% of windows up >= 90.000%" },
    ],
    [
      "availability by final attempt waits for the end (live counts do not link retries)",
      { kind: "availability", min: 0.99, attempts: "final" },
      facts(),
      {
        id: "availability-1",
        state: "pending",
        detail: "judged at end (retried requests count by their retry)",
      },
    ],
    [
      "retry-after waits for the end",
      { kind: "retry-after", min: 0.99 },
      facts(),
      { id: "retry-after-1", state: "pending", detail: "judged at end" },
    ],
    [
      "time to recover waits for the end",
      { kind: "time-to-recover", max: 5000 },
      facts(),
      { id: "time-to-recover-1", state: "pending", detail: "judged at end" },
    ],
  ];
  it.each(cases)("%s", (_name, spec, f, expected) => {
    expect(sloStanding(spec, 0, f)).toEqual(expected);
  });
});

describe("budgetOf", () => {
  it("counts against the first availability SLO: 1000 requests at 99.9% allow 1 bad", () => {
    expect(
      budgetOf(
        [
          { kind: "latency", percentile: 99, max: 1 },
          { kind: "availability", min: 0.999, degradedCountsAsGood: false },
        ],
        counts({ ok: 990, degraded: 5, error: 5 }),
      ),
    ).toEqual({
      requests: 1000,
      good: 990,
      // Both levels side by side; the budget counts at the SLO's level (full here).
      answered: 995,
      full: 990,
      level: "full",
      slo: 0.999,
      budget: 1.0000000000000009,
      bad: 10,
    });
  });
  it("defaults to 99.9% at the default level (full) when no availability SLO is declared", () => {
    // Since #15 the default level is full service: the 3 degraded answers are bad for the budget.
    const b = budgetOf([], counts({ ok: 1995, degraded: 3, timeout: 2 }));
    expect([b.slo, b.requests, b.good, b.bad, b.level]).toEqual([0.999, 2000, 1995, 5, "full"]);
    expect([b.answered, b.full]).toEqual([1998, 1995]);
  });
});
