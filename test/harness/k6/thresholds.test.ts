import { describe, expect, it } from "vitest";
import { formatRatio, mapSlosToThresholds } from "../../../harness/k6/thresholds.js";
import type { SloSpec } from "../../../harness/scenario/schema.js";

/** One named case per SLO kind and variant: the k6 threshold it becomes, or why none. */
const CASES: readonly {
  readonly name: string;
  readonly slo: SloSpec;
  readonly thresholds: Record<string, string[]>;
  readonly notes: string[];
}[] = [
  {
    name: "availability, degraded good -> failed-request rate",
    slo: { id: "a", kind: "availability", min: 0.999, degradedCountsAsGood: true },
    thresholds: { http_req_failed: ["rate<=0.001"] },
    notes: [],
  },
  {
    name: "availability, degraded down -> full-answer rate",
    slo: { id: "a", kind: "availability", min: 0.9995, degradedCountsAsGood: false },
    thresholds: { faultline_full: ["rate>=0.9995"] },
    notes: [],
  },
  {
    name: "latency from service time -> duration percentile, no note",
    slo: { id: "p95", kind: "latency", percentile: 95, max: 2000, from: "service", phase: "all" },
    thresholds: { http_req_duration: ["p(95)<=2000"] },
    notes: [],
  },
  {
    name: "latency from intended send -> mapped with a note",
    slo: { id: "p99", kind: "latency", percentile: 99, max: 1000, from: "intended", phase: "all" },
    thresholds: { http_req_duration: ["p(99)<=1000"] },
    notes: ["p99: P99 measured by k6 from the actual send, not the intended one"],
  },
  {
    name: "latency in a fault phase -> skipped",
    slo: { id: "d", kind: "latency", percentile: 50, max: 300, from: "service", phase: "during" },
    thresholds: {},
    notes: ['d: latency in phase "during" skipped (k6 cannot split at fault instants)'],
  },
  {
    name: "error-budget burn -> failed rate bound max x (1 - target)",
    slo: { id: "b", kind: "error-budget-burn", target: 0.999, max: 2 },
    thresholds: { http_req_failed: ["rate<=0.002"] },
    notes: [],
  },
  {
    name: "uptime -> skipped",
    slo: { kind: "uptime", min: 0.99, window: 1000, threshold: 0.99, degradedCountsAsGood: true },
    thresholds: {},
    notes: ["slos[0] (uptime): uptime skipped (needs fault windows; faultline evaluates it)"],
  },
  {
    name: "time-to-detect -> skipped",
    slo: { id: "t", kind: "time-to-detect", max: 1000 },
    thresholds: {},
    notes: ["t: time-to-detect skipped (needs fault windows; faultline evaluates it)"],
  },
  {
    name: "time-to-recover -> skipped",
    slo: { id: "r", kind: "time-to-recover", max: 5000 },
    thresholds: {},
    notes: ["r: time-to-recover skipped (needs fault windows; faultline evaluates it)"],
  },
  {
    name: "projected monthly availability -> skipped",
    slo: { id: "m", kind: "projected-monthly-availability", min: 0.999, frequency: {}, months: 100 },
    thresholds: {},
    notes: ["m: projected-monthly-availability skipped (needs fault windows; faultline evaluates it)"],
  },
];

describe("SLO -> k6 threshold mapping", () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(mapSlosToThresholds([c.slo])).toEqual({ thresholds: c.thresholds, notes: c.notes });
    });
  }

  it("merges several SLOs on one metric in SLO order", () => {
    const r = mapSlosToThresholds([
      { id: "p99", kind: "latency", percentile: 99, max: 3000, from: "service", phase: "all" },
      { id: "a", kind: "availability", min: 0.99, degradedCountsAsGood: true },
      { id: "p50", kind: "latency", percentile: 50, max: 250, from: "service", phase: "all" },
      { id: "b", kind: "error-budget-burn", target: 0.99, max: 0.5 },
    ]);
    expect(r.thresholds).toEqual({
      http_req_duration: ["p(99)<=3000", "p(50)<=250"],
      http_req_failed: ["rate<=0.01", "rate<=0.005"],
    });
  });

  it("prints ratios without binary float noise", () => {
    expect(1 - 0.999).not.toBe(0.001);
    expect(formatRatio(1 - 0.999)).toBe("0.001");
    expect(formatRatio(2 * (1 - 0.9999))).toBe("0.0002");
    expect(formatRatio(1)).toBe("1");
  });
});
