import {
  OUTCOMES,
  OUTCOME_CODE,
  emptyCounts,
  outcomeFromCode,
  type OutcomeCounts,
} from "../../common/outcome.js";
import type { SlaInput, SlaReport, LevelFigures } from "./analyze.js";
import { errorBudget } from "./budget.js";
import { detectFrom, honestDetectBy, type FaultAnalysis } from "./faults.js";
import { overlapMs } from "./health.js";
import { degradedGoodAt, type JudgedLevel } from "./levels.js";
import { availability, goodCodes } from "./outcomes.js";
import { ExactSummary } from "./exact-select.js";
import { nearestRank, summarize, type PercentileSummary } from "./percentiles.js";
import { phaseBounds, type Phase, type PhaseBounds } from "./phases.js";
import type { RetryLog, RetrySummary } from "./retries.js";
import { evaluateSlos, type SloData } from "./slo.js";
import type { RowSource } from "./source.js";
import { DowntimeTracker, RecoveryFinder, type HealthRules } from "./stream-health.js";
import { uptime as uptimeOf, type Window } from "./windows.js";

export interface SourceSlaInput extends Omit<SlaInput, "columns"> {
  readonly source: RowSource;
}

type Series = `${"intended" | "service"}:${Phase | "all"}`;

/**
 * `summarize` of lat[0, n), sorting in place (the window's buffer is reused): the same
 * nearest-rank answers without the copy and the filter callback, which cost a third of the
 * analysis of a long run.
 */
function summarizeInPlace(lat: Float64Array, n: number): PercentileSummary {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = lat[i];
    if (v === v) lat[k++] = v;
  }
  const sorted = lat.subarray(0, k).sort();
  return {
    count: k,
    p50: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    p99: nearestRank(sorted, 99),
    max: k === 0 ? null : sorted[k - 1],
  };
}

/** Outcome counts and intended latencies of fixed windows, built from rows fed in order. */
class WindowAccumulator {
  readonly n: number;
  /** counts[k * OUTCOMES.length + code] */
  readonly counts: Uint32Array;
  readonly latency: PercentileSummary[] = [];
  private k = 0;
  private lat = new Float64Array(1024);
  private filled = 0;

  constructor(
    readonly windowMs: number,
    durationMs: number,
    private readonly withLatency: boolean,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.n = Math.ceil(durationMs / windowMs);
    this.counts = new Uint32Array(Math.max(0, this.n) * OUTCOMES.length);
  }

  add(t: number, code: number, latency: number): void {
    // Rows before the origin belong to no window (windowStats starts at lowerBound(0)).
    if (this.n <= 0 || !(t >= 0)) return;
    while (this.k < this.n - 1 && t >= (this.k + 1) * this.windowMs) this.close();
    if (code < OUTCOMES.length) this.counts[this.k * OUTCOMES.length + code]++;
    if (!this.withLatency) return;
    if (this.filled === this.lat.length) {
      const grown = new Float64Array(this.lat.length * 2);
      grown.set(this.lat);
      this.lat = grown;
    }
    this.lat[this.filled++] = latency;
  }

  private close(): void {
    if (this.withLatency) this.latency.push(summarizeInPlace(this.lat, this.filled));
    this.filled = 0;
    this.k++;
  }

  end(): void {
    while (this.k < this.n) this.close();
  }

  countsOf(k: number): OutcomeCounts {
    const c = emptyCounts();
    OUTCOMES.forEach((o, code) => (c[o] = this.counts[k * OUTCOMES.length + code]));
    return c;
  }

  uptime(threshold: number, degradedCountsAsGood: boolean): number | null {
    if (this.n <= 0) return null;
    let up = 0;
    for (let k = 0; k < this.n; k++) {
      const r = availability(this.countsOf(k), degradedCountsAsGood);
      if (r === null || r >= threshold) up++;
    }
    return up / this.n;
  }

  windows(threshold: number, degradedCountsAsGood: boolean): Window[] {
    const out: Window[] = [];
    for (let k = 0; k < this.n; k++) {
      const counts = this.countsOf(k);
      const goodRatio = availability(counts, degradedCountsAsGood);
      out.push({
        startMs: k * this.windowMs,
        counts,
        goodRatio,
        latency: this.latency[k],
        up: goodRatio === null || goodRatio >= threshold,
      });
    }
    return out;
  }
}

/**
 * `analyzeRun` over a row source, in streaming passes with memory independent of the number
 * of rows: one pass for counts, windows, downtime, detection and recovery points; one for what
 * depends on the recovery points (phases, per-fault counts, latency percentiles); and, for runs
 * of more than COLLECT_MAX requests per latency series, one to three more to make the
 * percentiles exact (exact-select.ts). What it holds: one block of rows, a window's latencies,
 * rows within one stability period of a recovery candidate, and the answer itself (windows,
 * downtime intervals). Same definitions and comparisons as the in-memory building blocks, so
 * the same numbers (test/harness/sla/stream-analyze.test.ts compares them).
 */
export function analyzeSource(input: SourceSlaInput): SlaReport {
  const src = input.source;
  const windowMs = input.windowMs ?? 1000;
  const threshold = input.threshold ?? 0.99;
  const dg = input.degradedCountsAsGood ?? true;
  const stabilityMs = input.stabilityMs ?? 5000;
  const durationMs = input.durationMs;
  const slos = input.slos ?? [];
  const retries = input.retries ?? null;
  const rules = (degradedCountsAsGood: boolean): HealthRules => ({
    good: goodCodes(degradedCountsAsGood),
    threshold,
    ...(input.latencySloMs === undefined ? {} : { latencySloMs: input.latencySloMs }),
  });

  // Pass 1: everything that does not depend on the recovery points.
  const byCode = new Float64Array(256);
  const windowSets = new Map<number, WindowAccumulator>();
  windowSets.set(windowMs, new WindowAccumulator(windowMs, durationMs, true));
  for (const s of slos) {
    const w = s.kind === "uptime" ? (s.window ?? 1000) : null;
    if (w !== null && !windowSets.has(w)) windowSets.set(w, new WindowAccumulator(w, durationMs, false));
  }
  const windowList = [...windowSets.values()];
  const faults = input.faults;
  const answerEnd = faults.map(() => Number.POSITIVE_INFINITY);
  const downtimeTracker = new DowntimeTracker(rules(dg));
  const finders = faults.map((f) => {
    const from = f.endMs ?? f.startMs;
    const make = (good: boolean): RecoveryFinder =>
      new RecoveryFinder(from, rules(good), windowMs, stabilityMs, durationMs);
    return { headline: make(dg), answered: make(true), full: make(false) };
  });
  const allFinders = finders.flatMap((f) => [f.headline, f.answered, f.full]);
  const links = retries?.links ?? [];
  const byRow = links.map((_, i) => i).sort((a, b) => links[a].row - links[b].row);
  const byOf = links.map((_, i) => i).sort((a, b) => links[a].of - links[b].of);
  const rowOutcome = new Uint8Array(links.length).fill(255);
  const ofOutcome = new Uint8Array(links.length).fill(255);
  let pRow = 0;
  let pOf = 0;
  let prev = Number.NEGATIVE_INFINITY;
  const degradedCode = OUTCOME_CODE.degraded;
  const shedCode = OUTCOME_CODE.shed;

  src.forEachBlock((b, offset) => {
    const len = b.length;
    for (let j = 0; j < len; j++) {
      const t = b.intended[j];
      if (t < prev) {
        const i = offset + j;
        throw new RangeError(
          `request rows must be in intended-time order; row ${i} is earlier than row ${i - 1}`,
        );
      }
      prev = t;
      const code = b.outcome[j];
      const end = b.end[j];
      const lat = end - t;
      byCode[code]++;
      for (let w = 0; w < windowList.length; w++) windowList[w].add(t, code, lat);
      downtimeTracker.add(t, code, lat);
      for (let f = 0; f < allFinders.length; f++) allFinders[f].add(t, code, lat);
      if (code === degradedCode || code === shedCode) {
        for (let k = 0; k < faults.length; k++) {
          if (end >= faults[k].startMs && end < answerEnd[k]) answerEnd[k] = end;
        }
      }
    }
    const stop = offset + len;
    while (pRow < byRow.length && links[byRow[pRow]].row < stop) {
      const l = links[byRow[pRow]];
      if (l.row >= offset) rowOutcome[byRow[pRow]] = b.outcome[l.row - offset];
      pRow++;
    }
    while (pOf < byOf.length && links[byOf[pOf]].of < stop) {
      const l = links[byOf[pOf]];
      if (l.of >= offset) ofOutcome[byOf[pOf]] = b.outcome[l.of - offset];
      pOf++;
    }
  }, ["intended", "end", "outcome"]);
  for (const w of windowList) w.end();
  for (const f of allFinders) f.end();
  const downtime = downtimeTracker.end(durationMs);
  const totals = emptyCounts();
  OUTCOMES.forEach((o, code) => (totals[o] = byCode[code]));

  const points = finders.map((f) => ({
    point: f.headline.result ?? null,
    answer: f.answered.result ?? null,
    full: f.full.result ?? null,
  }));
  const phases = phaseBounds(
    faults.map((f, i) => ({ startMs: f.startMs, recoveryPointMs: points[i].point })),
    durationMs,
  );

  // Pass 2 (and more for exact percentiles): what depends on the recovery points.
  const countUntil = points.map((p) =>
    p.point === null || p.full === null ? durationMs : Math.max(p.point, p.full),
  );
  const faultCounts = faults.map(() => ({ total: 0, failed: 0, degraded: 0 }));
  const lookups: number[] = [];
  for (const p of points) {
    if (p.answer !== null) lookups.push(p.answer);
    if (p.full !== null) lookups.push(p.full);
  }
  const lookupEnd = new Map<number, number>();
  const pendingLookups = [...new Set(lookups)].sort((a, b) => a - b);
  let nextLookup = 0;
  const good = goodCodes(dg);

  const series = new Map<Series, ExactSummary>();
  const want = (s: Series): void => {
    if (!series.has(s)) series.set(s, new ExactSummary());
  };
  (["intended:all", "service:all", "intended:before", "intended:during", "intended:after"] as const).forEach(
    want,
  );
  for (const s of slos) if (s.kind === "latency") want(`${s.from ?? "intended"}:${s.phase ?? "all"}`);
  // Phases as numbers in the hot loop: 0 before, 1 during, 2 after, 3 all.
  const PHASE_NO = { before: 0, during: 1, after: 2, all: 3 } as const;
  const fed = [...series.entries()].map(([key, summary]) => {
    const [from, phase] = key.split(":") as ["intended" | "service", Phase | "all"];
    return { service: from === "service", phase: PHASE_NO[phase] as number, summary };
  });
  const { duringStartMs, duringEndMs } = phases;

  let first = true;
  while (first || fed.some((f) => f.summary.needsPass)) {
    const active = fed.filter((f) => f.summary.needsPass);
    const isFirst = first;
    src.forEachBlock((b) => {
      const len = b.length;
      for (let j = 0; j < len; j++) {
        const t = b.intended[j];
        const end = b.end[j];
        const phase = t < duringStartMs ? 0 : t < duringEndMs ? 1 : 2;
        for (let a = 0; a < active.length; a++) {
          const f = active[a];
          if (f.phase !== 3 && f.phase !== phase) continue;
          f.summary.add(end - (f.service ? b.sent[j] : t));
        }
        if (!isFirst) continue;
        while (nextLookup < pendingLookups.length && t >= pendingLookups[nextLookup])
          lookupEnd.set(pendingLookups[nextLookup++], end);
        const code = b.outcome[j];
        for (let k = 0; k < faults.length; k++) {
          if (t < faults[k].startMs || t >= countUntil[k]) continue;
          const fc = faultCounts[k];
          fc.total++;
          if (code === degradedCode) fc.degraded++;
          else if (!good[code]) fc.failed++;
        }
      }
    }, isFirst ? ["intended", "sent", "end", "outcome"] : ["intended", "sent", "end"]);
    for (const f of active) f.summary.endPass();
    first = false;
  }
  const latency = (s: Series): PercentileSummary => (series.get(s) as ExactSummary).result();

  const faultResults = faults.map((f, i): FaultAnalysis => {
    const from = f.endMs ?? f.startMs;
    const { point, answer, full } = points[i];
    const until = point ?? durationMs;
    const detect = honestDetectBy(
      detectFrom(answerEnd[i], input.metricSamples ?? [], f.startMs),
      f.startMs,
      answer,
      full,
      (p) => lookupEnd.get(p) ?? p,
    );
    return {
      id: f.id,
      kind: f.kind,
      timeToDetectMs: detect.ms,
      detectedBy: detect.by,
      detectNote: detect.note,
      recoveryPointMs: point,
      timeToRecoverMs: point === null ? null : Math.max(0, point - from),
      answerAgainPointMs: answer,
      timeToAnswerAgainMs: answer === null ? null : Math.max(0, answer - from),
      fullServicePointMs: full,
      timeToFullServiceMs: full === null ? null : Math.max(0, full - from),
      requests: faultCounts[i],
      downtimeMs: overlapMs(downtime, f.startMs, until),
    };
  });

  const finalCounts = (): OutcomeCounts => {
    const counts = { ...totals };
    ofOutcome.forEach((code) => counts[outcomeFromCode(code)]--);
    return counts;
  };
  const retrySummary = (log: RetryLog): RetrySummary => {
    // The log is the run's own (`retries`); its outcomes were read in pass 1.
    const outcomes = emptyCounts();
    rowOutcome.forEach((code) => outcomes[outcomeFromCode(code)]++);
    return {
      sent: log.links.length,
      outcomes,
      withoutRetryAfter: log.withoutRetryAfter,
      unsent: log.unsent,
      retryAfterMs: summarize(log.links.map((l) => l.retryAfterMs)),
    };
  };
  const headlineWindows = windowSets.get(windowMs) as WindowAccumulator;
  const data: SloData = {
    counts: () => ({ ...totals }),
    finalCounts,
    uptime: (w, th, good) => (windowSets.get(w) as WindowAccumulator).uptime(th, good),
    latency: (from, phase) => latency(`${from}:${phase}`),
    retrySummary,
  };
  const evaluation = evaluateSlos(slos, {
    data,
    durationMs,
    phases,
    faults: faultResults,
    seed: input.seed,
    retries,
  });
  const attempts = input.availabilityAttempts ?? "each";
  const counted = attempts === "final" ? finalCounts() : totals;
  const atLevel = (level: JudgedLevel): LevelFigures => {
    const g = degradedGoodAt(level);
    return { availability: availability(counted, g), uptime: headlineWindows.uptime(threshold, g) };
  };
  const windows = headlineWindows.windows(threshold, dg);
  return {
    totals,
    availability: { value: availability(counted, dg), degradedCountsAsGood: dg, attempts },
    uptime: { value: uptimeOf(windows), windowMs, threshold },
    levels: { answered: atLevel("answered"), full: atLevel("full") },
    latency: {
      intended: latency("intended:all"),
      service: latency("service:all"),
      byPhase: {
        before: latency("intended:before"),
        during: latency("intended:during"),
        after: latency("intended:after"),
      },
    },
    phases: phases satisfies PhaseBounds,
    windows,
    downtime,
    faults: faultResults,
    errorBudget: errorBudget(counted, input.budgetSlo ?? 0.999, dg),
    projection: evaluation.projections[0] ?? null,
    slos: evaluation.verdicts,
    retries: retries ? retrySummary(retries) : null,
  };
}
