import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { OUTCOMES } from "../../../common/outcome.js";
import { encodeRequests } from "../../../harness/record/requests-file.js";
import { RequestsFileWriter, requestsFileSource } from "../../../harness/record/requests-stream.js";
import { errorBudget } from "../../../harness/sla/budget.js";
import { columnsFromRows, type RequestColumns, type RequestRow } from "../../../harness/sla/columns.js";
import { ExactSummary } from "../../../harness/sla/exact-select.js";
import { analyzeFaults, type FaultWindow } from "../../../harness/sla/faults.js";
import { HealthIndex } from "../../../harness/sla/health.js";
import { degradedGoodAt } from "../../../harness/sla/levels.js";
import { assertIntendedOrder, availability, countRows } from "../../../harness/sla/outcomes.js";
import { summarize } from "../../../harness/sla/percentiles.js";
import { latencyOf, phaseBounds, phaseRows } from "../../../harness/sla/phases.js";
import { finalAttemptCounts, summarizeRetries, type RetryLog } from "../../../harness/sla/retries.js";
import { evaluateSlos, type SloSpec } from "../../../harness/sla/slo.js";
import { analyzeSource, type SourceSlaInput } from "../../../harness/sla/stream-analyze.js";
import { uptime, windowStats } from "../../../harness/sla/windows.js";
import type { SlaReport } from "../../../harness/sla/analyze.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "faultline-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The engine as it was before it streamed: every building block over the whole columns in
 * memory. The streaming engine must give exactly these numbers.
 */
function inMemory(input: Omit<SourceSlaInput, "source">, c: RequestColumns): SlaReport {
  assertIntendedOrder(c);
  const windowMs = input.windowMs ?? 1000;
  const threshold = input.threshold ?? 0.99;
  const dg = input.degradedCountsAsGood ?? true;
  const health = new HealthIndex(c, {
    degradedCountsAsGood: dg,
    threshold,
    latencySloMs: input.latencySloMs,
  });
  const { faults, downtime } = analyzeFaults(health, input.faults, input.metricSamples ?? [], {
    windowMs,
    stabilityMs: input.stabilityMs ?? 5000,
    durationMs: input.durationMs,
    degradedCountsAsGood: dg,
  });
  const phases = phaseBounds(
    input.faults.map((f, i) => ({ startMs: f.startMs, recoveryPointMs: faults[i]?.recoveryPointMs ?? null })),
    input.durationMs,
  );
  const totals = countRows(c);
  const windows = windowStats(c, {
    durationMs: input.durationMs,
    windowMs,
    threshold,
    degradedCountsAsGood: dg,
  });
  const byPhase = (p: "before" | "during" | "after"): ReturnType<typeof latencyOf> => {
    const [lo, hi] = phaseRows(c, phases, p);
    return latencyOf(c, lo, hi, "intended");
  };
  const evaluation = evaluateSlos(input.slos ?? [], {
    columns: c,
    durationMs: input.durationMs,
    phases,
    faults,
    seed: input.seed,
    retries: input.retries ?? null,
  });
  const attempts = input.availabilityAttempts ?? "each";
  const counted = attempts === "final" ? finalAttemptCounts(c, input.retries ?? null) : totals;
  const atLevel = (level: "answered" | "full"): { availability: number | null; uptime: number | null } => {
    const good = degradedGoodAt(level);
    const w = windowStats(c, {
      durationMs: input.durationMs,
      windowMs,
      threshold,
      degradedCountsAsGood: good,
    });
    return { availability: availability(counted, good), uptime: uptime(w) };
  };
  return {
    totals,
    availability: { value: availability(counted, dg), degradedCountsAsGood: dg, attempts },
    uptime: { value: uptime(windows), windowMs, threshold },
    levels: { answered: atLevel("answered"), full: atLevel("full") },
    latency: {
      intended: latencyOf(c, 0, c.length, "intended"),
      service: latencyOf(c, 0, c.length, "service"),
      byPhase: { before: byPhase("before"), during: byPhase("during"), after: byPhase("after") },
    },
    phases,
    windows,
    downtime,
    faults,
    errorBudget: errorBudget(counted, input.budgetSlo ?? 0.999, dg),
    projection: evaluation.projections[0] ?? null,
    slos: evaluation.verdicts,
    retries: input.retries ? summarizeRetries(c, input.retries) : null,
  };
}

/** Writes columns through the streaming writer in blocks of `chunk` rows. */
function writeStreamed(c: RequestColumns, chunk: number, name: string): string {
  const file = path.join(dir, name);
  const w = new RequestsFileWriter(file);
  for (let from = 0; from < c.length; from += chunk) w.append(c, from, Math.min(c.length, from + chunk));
  expect(w.finish()).toBe(c.length);
  return file;
}

/** A timeline with bad stretches, slow stretches, equal intended times and unsent requests. */
const timelineArb = fc
  .record({
    n: fc.integer({ min: 0, max: 300 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    badFrom: fc.integer({ min: 0, max: 3000 }),
    badFor: fc.integer({ min: 0, max: 2000 }),
  })
  .map(({ n, seed, badFrom, badFor }) => {
    let s = seed;
    const rnd = (): number => {
      s = (s * 48271) % 2147483647;
      return s / 2147483647;
    };
    const rows: RequestRow[] = [];
    let t = 0;
    for (let i = 0; i < n; i++) {
      t += rnd() < 0.1 ? 0 : Math.floor(rnd() * 40);
      const bad = t >= badFrom && t < badFrom + badFor;
      const r = rnd();
      const outcome = bad
        ? OUTCOMES[Math.floor(rnd() * OUTCOMES.length)]
        : r < 0.05
          ? "degraded"
          : r < 0.07
            ? "error"
            : "ok";
      const latency = bad && rnd() < 0.5 ? 300 + rnd() * 500 : 5 + rnd() * 50;
      rows.push({ intended: t, end: t + latency, outcome, ...(rnd() < 0.03 ? { sent: Number.NaN } : {}) });
    }
    return rows;
  });

const optionsArb = fc.record({
  windowMs: fc.constantFrom(100, 250, 1000),
  stabilityMs: fc.constantFrom(0, 300, 1000),
  threshold: fc.constantFrom(0.5, 0.9, 0.99),
  latencySloMs: fc.option(fc.constantFrom(60, 400), { nil: undefined }),
  degradedCountsAsGood: fc.boolean(),
  extraMs: fc.integer({ min: -200, max: 2000 }),
  faults: fc.array(
    fc.record({
      startMs: fc.integer({ min: 0, max: 4000 }),
      lengthMs: fc.option(fc.integer({ min: 0, max: 2000 })),
    }),
    { maxLength: 3 },
  ),
  retryEvery: fc.integer({ min: 0, max: 5 }),
  block: fc.integer({ min: 1, max: 64 }),
});

const SLOS: SloSpec[] = [
  { kind: "availability", min: 0.9, level: "full", attempts: "final" },
  { kind: "uptime", min: 0.9, window: 500, threshold: 0.8 },
  { kind: "uptime", min: 0.9 },
  { kind: "latency", percentile: 99, max: 100, from: "service", phase: "during" },
  { kind: "latency", percentile: 50, max: 30, phase: "after" },
  { kind: "error-budget-burn", target: 0.99, max: 1 },
  { kind: "retry-after", min: 0.5 },
  { kind: "time-to-recover", max: 1000, level: "answered" },
  { kind: "time-to-detect", max: 1000 },
  { kind: "projected-monthly-availability", min: 0.99, frequency: { kill: 2 }, months: 50 },
];

describe("streaming SLA engine", () => {
  it("gives exactly the in-memory engine's numbers, read back from a requests file in small blocks", () => {
    let run = 0;
    fc.assert(
      fc.property(timelineArb, optionsArb, (rows, o) => {
        const c = columnsFromRows(rows);
        const last = rows.at(-1)?.intended ?? 0;
        const durationMs = Math.max(0, last + o.extraMs);
        const faults: FaultWindow[] = o.faults.map((f, i) => ({
          id: `f${i}`,
          kind: "kill",
          startMs: f.startMs,
          endMs: f.lengthMs === null ? null : f.startMs + f.lengthMs,
        }));
        // Retries: every retryEvery-th shed row is "retried" by a later row.
        const links: { row: number; of: number; retryAfterMs: number }[] = [];
        if (o.retryEvery > 0) {
          for (let i = 0; i + 1 < c.length; i += o.retryEvery) {
            if (OUTCOMES[c.outcome[i]] === "shed")
              links.push({ row: i + 1 + (i % 3 === 0 ? 1 : 0), of: i, retryAfterMs: i % 7 });
          }
        }
        const retries: RetryLog | null =
          o.retryEvery > 0
            ? { links: links.filter((l) => l.row < c.length), withoutRetryAfter: 1, unsent: 0 }
            : null;
        const input = {
          durationMs,
          faults,
          metricSamples: [{ tMs: 500, values: { 'faultline_breaker_state{model="m"}': 1 } }],
          slos: SLOS,
          windowMs: o.windowMs,
          threshold: o.threshold,
          degradedCountsAsGood: o.degradedCountsAsGood,
          ...(o.latencySloMs === undefined ? {} : { latencySloMs: o.latencySloMs }),
          stabilityMs: o.stabilityMs,
          seed: 7,
          retries,
          availabilityAttempts: "final" as const,
        };
        const file = writeStreamed(c, o.block, `p${run++}.bin`);
        expect(readFileSync(file).equals(encodeRequests(c))).toBe(true);
        const streamed = analyzeSource({ ...input, source: requestsFileSource(file, o.block) });
        expect(streamed).toEqual(inMemory(input, c));
      }),
      { numRuns: 150, seed: 20261206 },
    );
  });

  it("refuses rows out of intended order with the in-memory engine's message", () => {
    const c = columnsFromRows([
      { intended: 0, end: 1, outcome: "ok" },
      { intended: 5, end: 6, outcome: "ok" },
      { intended: 3, end: 4, outcome: "ok" },
    ]);
    const file = writeStreamed(c, 1, "unordered.bin");
    expect(() =>
      analyzeSource({ source: requestsFileSource(file, 2), durationMs: 10, faults: [], seed: 1 }),
    ).toThrow("request rows must be in intended-time order; row 2 is earlier than row 1");
  });
});

describe("exact percentiles in passes", () => {
  /** Feeds the values pass after pass until the summary is complete; returns it and the pass count. */
  function passes(
    values: readonly number[],
    collectMax: number,
  ): { summary: ReturnType<ExactSummary["result"]>; n: number } {
    const s = new ExactSummary(collectMax);
    let n = 0;
    while (s.needsPass) {
      for (const v of values) s.add(v);
      s.endPass();
      n++;
    }
    return { summary: s.result(), n };
  }

  it("equals summarize when values exceed the collect limit (multi-pass radix path)", () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -0, 1, 1.5, 100, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.integer({ min: 0, max: 5 }).map((k) => 200 + k * 2 ** -40),
    );
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 400 }),
        fc.integer({ min: 1, max: 20 }),
        (values, collectMax) => {
          expect(passes(values, collectMax).summary).toEqual(summarize(values));
        },
      ),
      { numRuns: 300, seed: 17 },
    );
  });

  it("equals summarize whatever brackets it is given (a wrong guess only costs passes)", () => {
    const value = fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -5, max: 50 }), fc.constant(-0));
    const range = fc.option(
      fc.tuple(value, value).map(([lo, hi]) => ({ lo, hi })),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 300 }),
        fc.array(range, { maxLength: 3 }),
        (values, brackets) => {
          const s = new ExactSummary(7);
          s.setBrackets(brackets);
          while (s.needsPass) {
            for (const v of values) s.add(v);
            s.endPass();
          }
          expect(s.result()).toEqual(summarize(values));
        },
      ),
      { numRuns: 300, seed: 23 },
    );
  });

  it("settles every percentile in the first pass when the brackets hold", () => {
    const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5000) + 0.25);
    const s = new ExactSummary(10);
    s.setBrackets([
      { lo: 2400, hi: 2600 },
      { lo: 4700, hi: 4800 },
      { lo: 4900, hi: 4980 },
    ]);
    for (const v of values) s.add(v);
    s.endPass();
    expect(s.needsPass).toBe(false);
    expect(s.result()).toEqual(summarize(values));
  });

  it("needs one pass up to the collect limit and at most four beyond it", () => {
    const values = Array.from({ length: 5000 }, (_, i) => 100 + (i % 997) * 0.001);
    expect(passes(values, 5000).n).toBe(1);
    const many = passes(values, 10);
    expect(many.summary).toEqual(summarize(values));
    expect(many.n).toBeGreaterThan(1);
    expect(many.n).toBeLessThanOrEqual(4);
  });
});
