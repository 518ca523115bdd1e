import {
  OUTCOMES,
  OUTCOME_CODE,
  emptyCounts,
  outcomeFromCode,
  type OutcomeCounts,
} from "../../common/outcome.js";
import type { SlaInput, SlaReport, LevelFigures } from "./analyze.js";
import { errorBudget } from "./budget.js";
import type { RequestColumns } from "./columns.js";
import { detectFrom, honestDetectBy, type FaultAnalysis, type MetricSample } from "./faults.js";
import { overlapMs, type Interval } from "./health.js";
import { degradedGoodAt, type JudgedLevel } from "./levels.js";
import { availability, goodCodes } from "./outcomes.js";
import { ExactSummary } from "./exact-select.js";
import { nearestRank, summarize, type PercentileSummary } from "./percentiles.js";
import { phaseBounds, type Phase, type PhaseBounds } from "./phases.js";
import type { RetryLog } from "./retries.js";
import { evaluateSlos, type SloData, type SloSpec } from "./slo.js";
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

/** The settings every pass shares, defaults applied. */
interface Settings {
  readonly src: RowSource;
  readonly windowMs: number;
  readonly threshold: number;
  readonly dg: boolean;
  readonly stabilityMs: number;
  readonly durationMs: number;
  readonly faults: SourceSlaInput["faults"];
  readonly slos: readonly SloSpec[];
  readonly retries: RetryLog | null;
  readonly rules: (degradedCountsAsGood: boolean) => HealthRules;
}

function settingsOf(input: SourceSlaInput): Settings {
  const threshold = input.threshold ?? 0.99;
  return {
    src: input.source,
    windowMs: input.windowMs ?? 1000,
    threshold,
    dg: input.degradedCountsAsGood ?? true,
    stabilityMs: input.stabilityMs ?? 5000,
    durationMs: input.durationMs,
    faults: input.faults,
    slos: input.slos ?? [],
    retries: input.retries ?? null,
    rules: (degradedCountsAsGood) => ({
      good: goodCodes(degradedCountsAsGood),
      threshold,
      ...(input.latencySloMs === undefined ? {} : { latencySloMs: input.latencySloMs }),
    }),
  };
}

interface Points {
  readonly point: number | null;
  readonly answer: number | null;
  readonly full: number | null;
}

/** Outcomes of the rows retries name, read as their blocks go by. */
class RetryOutcomes {
  readonly rowOutcome: Uint8Array;
  readonly ofOutcome: Uint8Array;
  private readonly byRow: number[];
  private readonly byOf: number[];
  private pRow = 0;
  private pOf = 0;

  constructor(private readonly links: RetryLog["links"]) {
    this.byRow = links.map((_, i) => i).sort((a, b) => links[a].row - links[b].row);
    this.byOf = links.map((_, i) => i).sort((a, b) => links[a].of - links[b].of);
    this.rowOutcome = new Uint8Array(links.length).fill(255);
    this.ofOutcome = new Uint8Array(links.length).fill(255);
  }

  block(b: RequestColumns, offset: number): void {
    const stop = offset + b.length;
    for (; this.pRow < this.byRow.length && this.links[this.byRow[this.pRow]].row < stop; this.pRow++) {
      const k = this.byRow[this.pRow];
      const row = this.links[k].row;
      if (row >= offset) this.rowOutcome[k] = b.outcome[row - offset];
    }
    for (; this.pOf < this.byOf.length && this.links[this.byOf[this.pOf]].of < stop; this.pOf++) {
      const k = this.byOf[this.pOf];
      const of = this.links[k].of;
      if (of >= offset) this.ofOutcome[k] = b.outcome[of - offset];
    }
  }
}

/** Rows sampled in pass 1 to guess where the percentiles lie (3 x 8 bytes each). */
const SAMPLE_MAX = 1 << 19;

/**
 * Every k-th row's intended time and latencies, k fixed by the row count so that at most
 * SAMPLE_MAX are kept: pass 2 brackets each percentile from it (ExactSummary.setBrackets),
 * which settles most of them in that pass instead of two or three more reads of the file.
 */
class RowSample {
  readonly stride: number;
  readonly t: Float64Array;
  readonly intended: Float64Array;
  readonly service: Float64Array;
  filled = 0;

  constructor(rows: number) {
    this.stride = Math.max(1, Math.ceil(rows / SAMPLE_MAX));
    const size = Math.ceil(rows / this.stride);
    this.t = new Float64Array(size);
    this.intended = new Float64Array(size);
    this.service = new Float64Array(size);
  }

  block(b: RequestColumns, offset: number): void {
    const first = (this.stride - (offset % this.stride)) % this.stride;
    for (let j = first; j < b.length && this.filled < this.t.length; j += this.stride) {
      this.t[this.filled] = b.intended[j];
      this.intended[this.filled] = b.end[j] - b.intended[j];
      this.service[this.filled++] = b.end[j] - b.sent[j];
    }
  }

  /** Ranges likely (about 4 standard errors each way) to hold P50, P95 and P99 of a series. */
  brackets(service: boolean, inSeries: (t: number) => boolean): ({ lo: number; hi: number } | null)[] {
    const values: number[] = [];
    const from = service ? this.service : this.intended;
    for (let i = 0; i < this.filled; i++) {
      const v = from[i];
      if (v === v && inSeries(this.t[i])) values.push(v);
    }
    const m = values.length;
    if (m < 100) return [];
    const sorted = Float64Array.from(values).sort();
    return [0.5, 0.95, 0.99].map((q) => {
      const margin = Math.ceil(4 * Math.sqrt(m * q * (1 - q)) + 10);
      const at = q * m;
      return {
        lo: sorted[Math.max(0, Math.floor(at - margin))],
        hi: sorted[Math.min(m - 1, Math.ceil(at + margin))],
      };
    });
  }
}

/** Pass 1: everything that does not depend on the recovery points. */
class FirstPass {
  readonly byCode = new Float64Array(256);
  readonly windowSets = new Map<number, WindowAccumulator>();
  readonly answerEnd: number[];
  readonly downtime: DowntimeTracker;
  readonly finders: { headline: RecoveryFinder; answered: RecoveryFinder; full: RecoveryFinder }[];
  readonly retries: RetryOutcomes;
  readonly sample: RowSample;
  private readonly windowList: WindowAccumulator[];
  private readonly allFinders: RecoveryFinder[];
  private readonly faultStarts: number[];
  private prev = Number.NEGATIVE_INFINITY;

  constructor(private readonly s: Settings) {
    this.windowSets.set(s.windowMs, new WindowAccumulator(s.windowMs, s.durationMs, true));
    for (const slo of s.slos) {
      const w = slo.kind === "uptime" ? (slo.window ?? 1000) : null;
      if (w !== null && !this.windowSets.has(w))
        this.windowSets.set(w, new WindowAccumulator(w, s.durationMs, false));
    }
    this.windowList = [...this.windowSets.values()];
    this.faultStarts = s.faults.map((f) => f.startMs);
    this.answerEnd = s.faults.map(() => Number.POSITIVE_INFINITY);
    this.downtime = new DowntimeTracker(s.rules(s.dg));
    this.finders = s.faults.map((f) => {
      const make = (good: boolean): RecoveryFinder =>
        new RecoveryFinder(f.endMs ?? f.startMs, s.rules(good), s.windowMs, s.stabilityMs, s.durationMs);
      return { headline: make(s.dg), answered: make(true), full: make(false) };
    });
    this.allFinders = this.finders.flatMap((f) => [f.headline, f.answered, f.full]);
    this.retries = new RetryOutcomes(s.retries?.links ?? []);
    this.sample = new RowSample(s.src.length);
  }

  run(): void {
    this.s.src.forEachBlock((b, offset) => this.block(b, offset), ["intended", "sent", "end", "outcome"]);
    for (const w of this.windowList) w.end();
    for (const f of this.allFinders) f.end();
  }

  private block(b: RequestColumns, offset: number): void {
    const len = b.length;
    for (let j = 0; j < len; j++) {
      const t = b.intended[j];
      if (t < this.prev) {
        const i = offset + j;
        throw new RangeError(
          `request rows must be in intended-time order; row ${i} is earlier than row ${i - 1}`,
        );
      }
      this.prev = t;
      this.row(t, b.outcome[j], b.end[j]);
    }
    this.retries.block(b, offset);
    this.sample.block(b, offset);
  }

  private row(t: number, code: number, end: number): void {
    const lat = end - t;
    this.byCode[code]++;
    for (let w = 0; w < this.windowList.length; w++) this.windowList[w].add(t, code, lat);
    this.downtime.add(t, code, lat);
    for (let f = 0; f < this.allFinders.length; f++) this.allFinders[f].add(t, code, lat);
    if (code !== OUTCOME_CODE.degraded && code !== OUTCOME_CODE.shed) return;
    for (let k = 0; k < this.faultStarts.length; k++) {
      if (end >= this.faultStarts[k] && end < this.answerEnd[k]) this.answerEnd[k] = end;
    }
  }

  points(): Points[] {
    return this.finders.map((f) => ({
      point: f.headline.result ?? null,
      answer: f.answered.result ?? null,
      full: f.full.result ?? null,
    }));
  }

  totals(): OutcomeCounts {
    const totals = emptyCounts();
    OUTCOMES.forEach((o, code) => (totals[o] = this.byCode[code]));
    return totals;
  }
}

/** Phases as numbers in the hot loop: 0 before, 1 during, 2 after, 3 all. */
const PHASE_NO = { before: 0, during: 1, after: 2, all: 3 } as const;

interface Fed {
  readonly service: boolean;
  readonly phase: number;
  readonly summary: ExactSummary;
}

/** Pass 2 and the percentile passes after it: what depends on the recovery points. */
class LaterPasses {
  readonly series = new Map<Series, ExactSummary>();
  readonly faultCounts: { total: number; failed: number; degraded: number }[];
  readonly lookupEnd = new Map<number, number>();
  private readonly lookups: number[];
  private nextLookup = 0;
  private readonly countUntil: number[];
  private readonly good: readonly boolean[];
  private readonly fed: Fed[];

  constructor(
    private readonly s: Settings,
    points: readonly Points[],
    private readonly phases: PhaseBounds,
    sample: RowSample,
  ) {
    this.countUntil = points.map((p) =>
      p.point === null || p.full === null ? s.durationMs : Math.max(p.point, p.full),
    );
    this.faultCounts = s.faults.map(() => ({ total: 0, failed: 0, degraded: 0 }));
    const wanted = points.flatMap((p) => [p.answer, p.full]).filter((x): x is number => x !== null);
    this.lookups = [...new Set(wanted)].sort((a, b) => a - b);
    this.good = goodCodes(s.dg);
    const want = (key: Series): void => {
      if (!this.series.has(key)) this.series.set(key, new ExactSummary());
    };
    (
      ["intended:all", "service:all", "intended:before", "intended:during", "intended:after"] as const
    ).forEach(want);
    for (const slo of s.slos)
      if (slo.kind === "latency") want(`${slo.from ?? "intended"}:${slo.phase ?? "all"}`);
    this.fed = [...this.series.entries()].map(([key, summary]) => {
      const [from, phase] = key.split(":") as ["intended" | "service", Phase | "all"];
      summary.setBrackets(sample.brackets(from === "service", (t) => this.phaseOfT(t, PHASE_NO[phase])));
      return { service: from === "service", phase: PHASE_NO[phase], summary };
    });
  }

  private phaseOfT(t: number, phase: number): boolean {
    const { duringStartMs, duringEndMs } = this.phases;
    const p = t < duringStartMs ? 0 : t < duringEndMs ? 1 : 2;
    return phase === 3 || phase === p;
  }

  run(): void {
    let first = true;
    while (first || this.fed.some((f) => f.summary.needsPass)) {
      const active = this.fed.filter((f) => f.summary.needsPass);
      const isFirst = first;
      this.s.src.forEachBlock(
        (b) => this.block(b, active, isFirst),
        isFirst ? ["intended", "sent", "end", "outcome"] : ["intended", "sent", "end"],
      );
      for (const f of active) f.summary.endPass();
      first = false;
    }
  }

  private block(b: RequestColumns, active: readonly Fed[], first: boolean): void {
    const { duringStartMs, duringEndMs } = this.phases;
    const len = b.length;
    for (let j = 0; j < len; j++) {
      const t = b.intended[j];
      const end = b.end[j];
      const phase = t < duringStartMs ? 0 : t < duringEndMs ? 1 : 2;
      for (let a = 0; a < active.length; a++) {
        const f = active[a];
        if (f.phase === 3 || f.phase === phase) f.summary.add(end - (f.service ? b.sent[j] : t));
      }
      if (first) this.rowOnce(t, end, b.outcome[j]);
    }
  }

  /** Work of the first of these passes only. */
  private rowOnce(t: number, end: number, code: number): void {
    while (this.nextLookup < this.lookups.length && t >= this.lookups[this.nextLookup])
      this.lookupEnd.set(this.lookups[this.nextLookup++], end);
    const faults = this.s.faults;
    for (let k = 0; k < faults.length; k++) {
      if (t < faults[k].startMs || t >= this.countUntil[k]) continue;
      const fc = this.faultCounts[k];
      fc.total++;
      if (code === OUTCOME_CODE.degraded) fc.degraded++;
      else if (!this.good[code]) fc.failed++;
    }
  }

  latency(key: Series): PercentileSummary {
    return (this.series.get(key) as ExactSummary).result();
  }
}

function faultResults(
  s: Settings,
  one: FirstPass,
  later: LaterPasses,
  points: readonly Points[],
  downtime: readonly Interval[],
  samples: readonly MetricSample[],
): FaultAnalysis[] {
  const since = (point: number | null, from: number): number | null =>
    point === null ? null : Math.max(0, point - from);
  return s.faults.map((f, i): FaultAnalysis => {
    const from = f.endMs ?? f.startMs;
    const { point, answer, full } = points[i];
    const detect = honestDetectBy(
      detectFrom(one.answerEnd[i], samples, f.startMs),
      f.startMs,
      answer,
      full,
      (p) => later.lookupEnd.get(p) ?? p,
    );
    return {
      id: f.id,
      kind: f.kind,
      timeToDetectMs: detect.ms,
      detectedBy: detect.by,
      detectNote: detect.note,
      recoveryPointMs: point,
      timeToRecoverMs: since(point, from),
      answerAgainPointMs: answer,
      timeToAnswerAgainMs: since(answer, from),
      fullServicePointMs: full,
      timeToFullServiceMs: since(full, from),
      requests: later.faultCounts[i],
      downtimeMs: overlapMs(downtime, f.startMs, point ?? s.durationMs),
    };
  });
}

/** The aggregates SLO verdicts read, from what the passes computed. */
function sloData(one: FirstPass, later: LaterPasses, totals: OutcomeCounts): SloData {
  const finalCounts = (): OutcomeCounts => {
    const counts = { ...totals };
    one.retries.ofOutcome.forEach((code) => counts[outcomeFromCode(code)]--);
    return counts;
  };
  return {
    counts: () => ({ ...totals }),
    finalCounts,
    uptime: (w, th, good) => (one.windowSets.get(w) as WindowAccumulator).uptime(th, good),
    latency: (from, phase) => later.latency(`${from}:${phase}`),
    // The log is the run's own (`retries`): its rows' outcomes were read in pass 1.
    retrySummary: (log) => {
      const outcomes = emptyCounts();
      one.retries.rowOutcome.forEach((code) => outcomes[outcomeFromCode(code)]++);
      return {
        sent: log.links.length,
        outcomes,
        withoutRetryAfter: log.withoutRetryAfter,
        unsent: log.unsent,
        retryAfterMs: summarize(log.links.map((l) => l.retryAfterMs)),
      };
    },
  };
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
  const s = settingsOf(input);
  const one = new FirstPass(s);
  one.run();
  const downtime = one.downtime.end(s.durationMs);
  const totals = one.totals();
  const points = one.points();
  const phases = phaseBounds(
    s.faults.map((f, i) => ({ startMs: f.startMs, recoveryPointMs: points[i].point })),
    s.durationMs,
  );
  const later = new LaterPasses(s, points, phases, one.sample);
  later.run();
  const faults = faultResults(s, one, later, points, downtime, input.metricSamples ?? []);
  const data = sloData(one, later, totals);
  const evaluation = evaluateSlos(s.slos, {
    data,
    durationMs: s.durationMs,
    phases,
    faults,
    seed: input.seed,
    retries: s.retries,
    alerts: input.alerts ?? [],
    notifications: input.notifications ?? [],
    faultWindows: input.faults,
  });
  const attempts = input.availabilityAttempts ?? "each";
  const counted = attempts === "final" ? data.finalCounts() : totals;
  const headline = one.windowSets.get(s.windowMs) as WindowAccumulator;
  const atLevel = (level: JudgedLevel): LevelFigures => {
    const g = degradedGoodAt(level);
    return { availability: availability(counted, g), uptime: headline.uptime(s.threshold, g) };
  };
  const windows = headline.windows(s.threshold, s.dg);
  return {
    totals,
    availability: { value: availability(counted, s.dg), degradedCountsAsGood: s.dg, attempts },
    uptime: { value: uptimeOf(windows), windowMs: s.windowMs, threshold: s.threshold },
    levels: { answered: atLevel("answered"), full: atLevel("full") },
    latency: {
      intended: later.latency("intended:all"),
      service: later.latency("service:all"),
      byPhase: {
        before: later.latency("intended:before"),
        during: later.latency("intended:during"),
        after: later.latency("intended:after"),
      },
    },
    phases,
    windows,
    downtime,
    faults,
    errorBudget: errorBudget(counted, input.budgetSlo ?? 0.999, s.dg),
    projection: evaluation.projections[0] ?? null,
    slos: evaluation.verdicts,
    retries: s.retries ? data.retrySummary(s.retries) : null,
  };
}
