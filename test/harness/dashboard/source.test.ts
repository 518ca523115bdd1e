import { describe, expect, it } from "vitest";
import { emptyCounts, type OutcomeCounts } from "../../../common/outcome.js";
import { dashboardSourceFrom, healthFromMetrics, plannedRateAt } from "../../../harness/dashboard/index.js";
import type { FaultOccurrence } from "../../../harness/faults/scheduler.js";
import type { LoadSnapshot, SecondCounts } from "../../../harness/load/index.js";

const counts = (c: Partial<OutcomeCounts>): OutcomeCounts => ({ ...emptyCounts(), ...c });
const plan = {
  segments: [
    { startMs: 0, endMs: 10_000, r0: 0, r1: 100 },
    { startMs: 10_000, endMs: 20_000, r0: 100, r1: 100 },
  ],
};

function snap(
  elapsedMs: number,
  scheduled: number,
  lastSeconds: SecondCounts[],
  over: Partial<LoadSnapshot> = {},
): LoadSnapshot {
  return {
    elapsedMs,
    rateMultiplier: 1,
    scheduled,
    inFlight: 2,
    queued: 0,
    maxInFlightHits: 0,
    totals: counts({ ok: 100 }),
    lastSeconds,
    recentLatency: { count: 100, p50: 5, p95: 9, p99: 12 },
    ...over,
  };
}

describe("plannedRateAt", () => {
  it.each([
    [0, 0],
    [2500, 25],
    [9999, 99.99],
    [15_000, 100],
    [20_000, 0],
  ])("at %i ms the plan asks for %f req/s", (t, r) => {
    expect(plannedRateAt(plan, t)).toBeCloseTo(r, 10);
  });
});

describe("dashboardSourceFrom", () => {
  it("turns snapshots into a frame: target x multiplier, sent rate over the kept reads, last whole second, p99 per second", () => {
    const reads: LoadSnapshot[] = [
      snap(11_000, 1000, [
        { second: 10, counts: counts({ ok: 90 }) },
        { second: 11, counts: counts({ ok: 3 }) },
      ]),
      snap(
        12_000,
        1100,
        [
          { second: 11, counts: counts({ ok: 100 }) },
          { second: 12, counts: counts({}) },
        ],
        {
          rateMultiplier: 3,
          recentLatency: { count: 100, p50: 5, p95: 9, p99: 40 },
        },
      ),
    ];
    let i = 0;
    const occurrence: FaultOccurrence = {
      occurrenceId: "x-burst",
      faultId: "burst",
      kind: "load-burst",
      target: "load",
      params: { multiplier: 3 },
      description: "load x3",
      plannedStartMs: 11_500,
      plannedEndMs: 15_000,
      injectedAtMs: 1,
      revertedAtMs: null,
      status: "active",
      manual: false,
    };
    const source = dashboardSourceFrom({
      title: "t",
      load: { snapshot: () => reads[i++] },
      plan,
      plannedMs: 20_000,
      scheduler: { occurrences: () => [occurrence], now: () => 12_000, paused: false },
      slos: [],
    });
    source.read();
    const f = source.read();
    expect(f.rate).toEqual({ target: 300, achieved: 100, multiplier: 3, inFlight: 2 });
    expect(f.perSecond).toEqual(counts({ ok: 100 }));
    expect(f.latency).toEqual({ p50: 5, p95: 9, p99: 40, history: [12, 40] });
    expect(f.timeline).toEqual({
      paused: false,
      nowMs: 12_000,
      faults: [
        {
          id: "burst",
          kind: "load-burst",
          target: "load",
          description: "load x3",
          status: "active",
          startMs: 11_500,
          endMs: 15_000,
          manual: false,
        },
      ],
    });
    expect(f.health.ready).toBe(null);
  });
});

describe("healthFromMetrics", () => {
  it("reads breakers, restarts summed over causes, worker up and VRAM from contract names", () => {
    const text = [
      "# HELP x",
      'faultline_breaker_state{backend="worker"} 1',
      'faultline_breaker_state{backend="cpu"} 2',
      'faultline_worker_restarts_total{cause="crash"} 2',
      'faultline_worker_restarts_total{cause="hung"} 1',
      "faultline_worker_up 0",
      "faultline_gpu_memory_used_bytes 1073741824",
      "faultline_gpu_memory_total_bytes 8589934592",
      "process_cpu_seconds_total 3",
    ].join("\n");
    expect(healthFromMetrics(text, true)).toEqual({
      ready: true,
      workerUp: false,
      breakers: [
        { name: "cpu", state: "half-open" },
        { name: "worker", state: "open" },
      ],
      restarts: 3,
      vramUsedBytes: 1073741824,
      vramTotalBytes: 8589934592,
    });
  });
  it("without metrics keeps only readiness", () => {
    expect(healthFromMetrics(null, false)).toEqual({
      ready: false,
      workerUp: null,
      breakers: [],
      restarts: null,
      vramUsedBytes: null,
      vramTotalBytes: null,
    });
  });
});
