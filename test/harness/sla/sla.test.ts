import { describe, expect, it } from "vitest";
import type { Outcome } from "../../../common/outcome.js";
import {
  analyzeRun,
  columnsFromRows,
  downtimeIntervals,
  errorBudget,
  HealthIndex,
  judge,
  nearestRank,
  overlapMs,
  projectMonthly,
  recoveryPoint,
  summarize,
  timeToDetect,
  uptime,
  windowStats,
  availability,
  countRows,
  MONTH_MS,
  type MetricSample,
  type RequestRow,
} from "../../../harness/sla/index.js";

/** One request every `gap` ms over [0, duration), latency 10 ms unless `shape` says otherwise. */
function timeline(
  durationMs: number,
  gap: number,
  shape: (t: number) => { outcome: Outcome; latency?: number } | null = () => ({ outcome: "ok" }),
): RequestRow[] {
  const rows: RequestRow[] = [];
  for (let t = 0; t < durationMs; t += gap) {
    const s = shape(t);
    if (s === null) continue;
    rows.push({ intended: t, end: t + (s.latency ?? 10), outcome: s.outcome });
  }
  return rows;
}

const within = (t: number, a: number, b: number): boolean => t >= a && t < b;

describe("percentiles (nearest rank)", () => {
  const cases: { name: string; values: number[]; expected: ReturnType<typeof summarize> }[] = [
    { name: "no values", values: [], expected: { count: 0, p50: null, p95: null, p99: null, max: null } },
    {
      name: "one value is every percentile",
      values: [7],
      expected: { count: 1, p50: 7, p95: 7, p99: 7, max: 7 },
    },
    {
      name: "three unsorted values",
      values: [3, 1, 2],
      expected: { count: 3, p50: 2, p95: 3, p99: 3, max: 3 },
    },
    {
      name: "1..20: P95 is the 19th (0.95*20 must not round up to 20)",
      values: Array.from({ length: 20 }, (_, i) => i + 1),
      expected: { count: 20, p50: 10, p95: 19, p99: 20, max: 20 },
    },
    {
      name: "1..100",
      values: Array.from({ length: 100 }, (_, i) => 100 - i),
      expected: { count: 100, p50: 50, p95: 95, p99: 99, max: 100 },
    },
    {
      name: "NaN (never sent) is ignored",
      values: [Number.NaN, 4, 8],
      expected: { count: 2, p50: 4, p95: 8, p99: 8, max: 8 },
    },
  ];
  it.each(cases)("$name", ({ values, expected }) => {
    expect(summarize(values)).toEqual(expected);
  });

  it("P0 is the minimum and an out-of-range percentile is refused", () => {
    expect(nearestRank([1, 2, 3], 0)).toBe(1);
    expect(() => nearestRank([1], 101)).toThrow("percentile must be in [0, 100], got 101");
  });
});

describe("availability and windows", () => {
  it("counts degraded as good or as down per the flag", () => {
    const c = columnsFromRows([
      { intended: 0, end: 1, outcome: "ok" },
      { intended: 1, end: 2, outcome: "ok" },
      { intended: 2, end: 3, outcome: "degraded" },
      { intended: 3, end: 4, outcome: "conn" },
    ]);
    expect(availability(countRows(c), true)).toBe(0.75);
    expect(availability(countRows(c), false)).toBe(0.5);
    expect(availability(countRows(columnsFromRows([])), true)).toBe(null);
  });

  it("tiles the run; an empty window is up with a null ratio; requests go by intended time", () => {
    const c = columnsFromRows([
      { intended: 0, end: 10, outcome: "ok" },
      { intended: 500, end: 520, outcome: "error" },
      { intended: 2000, end: 2100, outcome: "shed" },
      // Answered in the next window's time, but charged to when it was meant to be sent.
      { intended: 2500, end: 3500, outcome: "timeout" },
    ]);
    const w = windowStats(c, {
      durationMs: 3000,
      windowMs: 1000,
      threshold: 0.5,
      degradedCountsAsGood: true,
    });
    expect(w).toEqual([
      {
        startMs: 0,
        counts: { ok: 1, degraded: 0, shed: 0, error: 1, timeout: 0, conn: 0 },
        goodRatio: 0.5,
        latency: { count: 2, p50: 10, p95: 20, p99: 20, max: 20 },
        up: true,
      },
      {
        startMs: 1000,
        counts: { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 },
        goodRatio: null,
        latency: { count: 0, p50: null, p95: null, p99: null, max: null },
        up: true,
      },
      {
        startMs: 2000,
        counts: { ok: 0, degraded: 0, shed: 1, error: 0, timeout: 1, conn: 0 },
        goodRatio: 0,
        latency: { count: 2, p50: 100, p95: 1000, p99: 1000, max: 1000 },
        up: false,
      },
    ]);
    expect(uptime(w)).toBe(2 / 3);
    expect(uptime([])).toBe(null);
  });
});

describe("error budget and burn", () => {
  it.each([
    { name: "3 bad of 1000 at 99.9%: burn 3", bad: 3, all: 1000, slo: 0.999, budget: 1, burn: 3 },
    { name: "all requests failing at 90%: burn 10", bad: 10, all: 10, slo: 0.9, budget: 1, burn: 10 },
    { name: "nothing bad: burn 0", bad: 0, all: 500, slo: 0.99, budget: 5, burn: 0 },
  ])("$name", ({ bad, all, slo, budget, burn }) => {
    const rows: RequestRow[] = timeline(all, 1, (t) => ({ outcome: t < bad ? "error" : "ok" }));
    const b = errorBudget(countRows(columnsFromRows(rows)), slo, true);
    expect(b.badRequests).toBe(bad);
    // (1 - 0.999) is not exact in binary floating point; 1e-9 is far below one request.
    expect(b.budgetRequests).toBeCloseTo(budget, 9);
    expect(b.burn).toBeCloseTo(burn, 9);
  });

  it("a 100% SLO has no budget: burn is null", () => {
    expect(errorBudget(countRows(columnsFromRows(timeline(10, 1))), 1, true)).toEqual({
      slo: 1,
      budgetRequests: 0,
      badRequests: 0,
      burn: null,
    });
  });
});

describe("time to detect", () => {
  const c = columnsFromRows([
    { intended: 800, end: 990, outcome: "shed" }, // before the fault: not a detection
    { intended: 900, end: 950, outcome: "ok" },
    { intended: 1000, end: 1001, outcome: "conn" }, // the service did not signal this
    { intended: 1100, end: 1250, outcome: "shed" },
    { intended: 1200, end: 1230, outcome: "degraded" },
  ]);
  it.each<{
    name: string;
    samples: MetricSample[];
    start?: number;
    expected: ReturnType<typeof timeToDetect>;
  }>([
    { name: "first degraded/shed answer after the start", samples: [], expected: { ms: 230, by: "answer" } },
    {
      name: "breaker metric open earlier than any answer",
      samples: [
        { tMs: 900, values: { 'faultline_breaker_state{backend="worker"}': 1 } }, // before the start
        { tMs: 1100, values: { 'faultline_breaker_state{backend="worker"}': 2 } }, // half-open is not open
        { tMs: 1200, values: { 'faultline_breaker_state{backend="worker"}': 1, faultline_worker_up: 0 } },
      ],
      expected: { ms: 200, by: "breaker" },
    },
    { name: "nothing signalled", samples: [], start: 1300, expected: { ms: null, by: null } },
  ])("$name", ({ samples, expected, start }) => {
    expect(timeToDetect(c, samples, start ?? 1000)).toEqual(expected);
  });
});

describe("time to recover", () => {
  const opts = { windowMs: 1000, stabilityMs: 2000, durationMs: 10_000 };
  const health = (rows: RequestRow[], threshold = 1, latencySloMs?: number): HealthIndex =>
    new HealthIndex(columnsFromRows(rows), { degradedCountsAsGood: true, threshold, latencySloMs });
  const errorsIn =
    (...ranges: [number, number][]) =>
    (t: number): { outcome: Outcome } => ({
      outcome: ranges.some(([a, b]) => within(t, a, b)) ? "error" : "ok",
    });

  it.each([
    {
      name: "healthy right at the fault end",
      rows: timeline(10_000, 100, errorsIn([2000, 4000])),
      from: 4000,
      point: 4000,
    },
    {
      name: "errors outlast the fault by 500 ms",
      rows: timeline(10_000, 100, errorsIn([2000, 4500])),
      from: 4000,
      point: 4500,
    },
    {
      name: "relapse inside the stability period restarts the count",
      rows: timeline(10_000, 100, errorsIn([2000, 4500], [5000, 5300])),
      from: 4000,
      point: 5300,
    },
    {
      name: "the same relapse tolerated by a 70% threshold (3 bad of 10 in the window)",
      rows: timeline(10_000, 100, errorsIn([2000, 4500], [5000, 5300])),
      threshold: 0.7,
      from: 4000,
      point: 4500,
    },
    {
      name: "fault at the very start (instant kill at 0)",
      rows: timeline(10_000, 100, errorsIn([0, 800])),
      from: 0,
      point: 800,
    },
    {
      name: "fault at the very end: stability cannot be observed before the run ends",
      rows: timeline(10_000, 100, errorsIn([9000, 9500])),
      from: 9500,
      point: null,
    },
    {
      name: "all requests failing",
      rows: timeline(10_000, 100, () => ({ outcome: "timeout" })),
      from: 1000,
      point: null,
    },
    {
      name: "no requests for 3 s after the fault: recovery needs a healthy request as evidence",
      rows: timeline(10_000, 100, (t) =>
        within(t, 2000, 5000) ? null : { outcome: within(t, 1000, 2000) ? "error" : "ok" },
      ),
      from: 1500,
      point: 5000,
    },
    {
      name: "answers good but slower than the latency SLO are not healthy",
      rows: timeline(10_000, 100, (t) => ({ outcome: "ok", latency: within(t, 3000, 4000) ? 300 : 10 })),
      latencySloMs: 100,
      from: 3000,
      point: 4000,
    },
  ])("$name", ({ rows, from, point, threshold, latencySloMs }) => {
    expect(recoveryPoint(health(rows, threshold, latencySloMs), from, opts)).toBe(point);
  });

  it("downtime intervals at request resolution, trailing downtime ending at the run's end", () => {
    const h = health(timeline(10_000, 100, errorsIn([2000, 4500], [5000, 5300], [9500, 10_000])));
    const iv = downtimeIntervals(h, 10_000);
    expect(iv).toEqual([
      { startMs: 2000, endMs: 4500 },
      { startMs: 5000, endMs: 5300 },
      { startMs: 9500, endMs: 10_000 },
    ]);
    expect(overlapMs(iv, 4000, 5200)).toBe(500 + 200);
  });
});

describe("monthly projection", () => {
  const hour = 3_600_000;
  it("no occurrences: every month is perfect", () => {
    expect(projectMonthly([{ kind: "kill", perMonth: 0, downtimeMs: hour }], 0.999, 1000, 7)).toEqual({
      sloTarget: 0.999,
      months: 1000,
      seed: 7,
      inputs: [{ kind: "kill", perMonth: 0, downtimeMs: hour }],
      meanAvailability: 1,
      p5Availability: 1,
      probabilityMeetingSlo: 1,
    });
  });

  it("one-hour outages once a month against 99.99%: meets it only in months without one", () => {
    const p = projectMonthly([{ kind: "kill", perMonth: 1, downtimeMs: hour }], 0.9999, 100_000, 42);
    // P(N = 0) = e^-1; Monte Carlo standard error sqrt(p(1-p)/1e5) = 0.0015, so 0.005 is > 3 sigma.
    expect(Math.abs(p.probabilityMeetingSlo - Math.exp(-1))).toBeLessThan(0.005);
    // Mean downtime is one hour per month; relative standard error of the mean count is 0.3%.
    expect(Math.abs(p.meanAvailability - (1 - hour / MONTH_MS))).toBeLessThan(1e-5);
    // P(N <= 2) = 0.920 < 0.95 <= P(N <= 3) = 0.981: the 5th-percentile month has 3 outages.
    expect(p.p5Availability).toBe(1 - (3 * hour) / MONTH_MS);
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const inputs = [
      { kind: "kill", perMonth: 2, downtimeMs: 40_000 },
      { kind: "oom", perMonth: 0.5, downtimeMs: 300_000 },
    ];
    const a = projectMonthly(inputs, 0.9999, 5000, 1);
    expect(projectMonthly(inputs, 0.9999, 5000, 1)).toEqual(a);
    expect(projectMonthly(inputs, 0.9999, 5000, 2).probabilityMeetingSlo).not.toBe(a.probabilityMeetingSlo);
  });
});

describe("SLO verdicts", () => {
  const base = { id: "x", description: "d", metric: "m", unit: "ratio" as const };
  it.each([
    { name: ">= passed", comparator: ">=" as const, bound: 0.5, measured: 0.75, margin: 0.25, passed: true },
    {
      name: ">= on the bound passes",
      comparator: ">=" as const,
      bound: 0.5,
      measured: 0.5,
      margin: 0,
      passed: true,
    },
    {
      name: "> on the bound fails",
      comparator: ">" as const,
      bound: 0.5,
      measured: 0.5,
      margin: 0,
      passed: false,
    },
    {
      name: "<= missed by 20",
      comparator: "<=" as const,
      bound: 100,
      measured: 120,
      margin: -20,
      passed: false,
    },
    {
      name: "not measured fails",
      comparator: "<=" as const,
      bound: 100,
      measured: null,
      margin: null,
      passed: false,
    },
  ])("$name", ({ comparator, bound, measured, margin, passed }) => {
    expect(judge({ ...base, comparator, bound }, measured)).toEqual({
      ...base,
      comparator,
      bound,
      measured,
      margin,
      passed,
    });
  });
});

describe("analyzeRun", () => {
  it("one 2 s error fault in a 10 s run at 10 req/s", () => {
    const rows = timeline(10_000, 100, (t) => ({ outcome: within(t, 2000, 4000) ? "error" : "ok" }));
    const r = analyzeRun({
      columns: columnsFromRows(rows),
      durationMs: 10_000,
      faults: [{ id: "f1", kind: "error-burst", startMs: 2000, endMs: 4000 }],
      stabilityMs: 2000,
      seed: 1,
      slos: [
        { kind: "availability", min: 0.75 },
        { kind: "time-to-recover", max: 1000 },
        { kind: "latency", percentile: 99, max: 5, phase: "after" },
      ],
    });
    expect(r.totals).toEqual({ ok: 80, degraded: 0, shed: 0, error: 20, timeout: 0, conn: 0 });
    // No degraded rows, so both levels agree.
    expect(r.availability).toEqual({ value: 0.8, degradedCountsAsGood: true, attempts: "each" });
    expect(r.uptime).toEqual({ value: 0.8, windowMs: 1000, threshold: 0.99 });
    expect(r.levels).toEqual({
      answered: { availability: 0.8, uptime: 0.8 },
      full: { availability: 0.8, uptime: 0.8 },
    });
    expect(r.phases).toEqual({ duringStartMs: 2000, duringEndMs: 4000 });
    expect(r.latency.byPhase.before.count).toBe(20);
    expect(r.latency.byPhase.during.count).toBe(20);
    expect(r.latency.byPhase.after.count).toBe(60);
    expect(r.downtime).toEqual([{ startMs: 2000, endMs: 4000 }]);
    expect(r.faults).toEqual([
      {
        id: "f1",
        kind: "error-burst",
        timeToDetectMs: null,
        detectedBy: null,
        // Errors are not a signal of the fault (no degraded/shed answer, no open breaker).
        detectNote: "the service gave no signal (no degraded or shed answer, no open breaker)",
        recoveryPointMs: 4000,
        timeToRecoverMs: 0,
        // Both levels recover together: no fallback answers in this run.
        answerAgainPointMs: 4000,
        timeToAnswerAgainMs: 0,
        fullServicePointMs: 4000,
        timeToFullServiceMs: 0,
        requests: { total: 20, failed: 20, degraded: 0 },
        downtimeMs: 2000,
      },
    ]);
    expect(r.slos.map((s) => [s.id, s.measured, s.passed])).toEqual([
      ["availability-1", 0.8, true],
      ["time-to-recover-2", 0, true],
      ["latency-3", 10, false],
    ]);
    expect(r.projection).toBe(null);
  });

  it("rejects rows out of intended order", () => {
    const c = columnsFromRows([
      { intended: 10, end: 11, outcome: "ok" },
      { intended: 5, end: 6, outcome: "ok" },
    ]);
    expect(() => analyzeRun({ columns: c, durationMs: 20, faults: [], seed: 1 })).toThrow(
      "request rows must be in intended-time order; row 1 is earlier than row 0",
    );
  });
});
