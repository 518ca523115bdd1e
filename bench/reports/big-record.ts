import type { FaultTiming, RunRecord, WindowStats } from "../../harness/record/schema.js";
import { runRecordSchema } from "../../harness/record/schema.js";

/**
 * A synthetic long run for the report benchmark: `seconds` one-second windows at `rate`
 * req/s, faults spread over the run (each degrading its windows), metrics scraped every
 * second. Deterministic (a fixed LCG), so every benchmark run renders the same document.
 */
export interface BigRecordOptions {
  readonly seconds: number;
  readonly rate: number;
  readonly faults: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function faultAt(i: number, startS: number): FaultTiming {
  return {
    id: `fault-${i}`,
    kind: i % 2 === 0 ? "process-kill" : "toxiproxy-latency",
    target: i % 2 === 0 ? "worker" : "api",
    description: `synthetic fault ${i}`,
    params: {},
    startMs: startS * 1000,
    endMs: i % 2 === 0 ? null : (startS + 60) * 1000,
    injectedAtMs: startS * 1000 + 2,
    revertedAtMs: startS * 1000 + (i % 2 === 0 ? 2 : 60_002),
    timeToDetectMs: 800,
    timeToRecoverMs: 12_000,
    recovered: true,
    requests: { total: 2400, failed: 300, degraded: 600 },
  };
}

function windowAt(i: number, rate: number, hit: boolean, rnd: () => number): WindowStats {
  const bad = hit ? Math.floor(rate * 0.3 * rnd()) : rnd() < 0.01 ? 1 : 0;
  const degraded = hit ? Math.floor(rate * 0.2 * rnd()) : 0;
  const ok = rate - bad - degraded;
  const base = 35 + 10 * rnd();
  const f = hit ? 6 : 1;
  return {
    startMs: i * 1000,
    counts: { ok, degraded, shed: Math.ceil(bad / 2), error: 0, timeout: 0, conn: Math.floor(bad / 2) },
    goodRatio: (ok + degraded) / rate,
    latency: { count: rate, p50: base * f, p95: base * 2.2 * f, p99: base * 3.1 * f, max: base * 4 * f },
    up: bad === 0,
  };
}

export function bigRecord(o: BigRecordOptions): RunRecord {
  const rnd = lcg(42);
  const starts = Array.from({ length: o.faults }, (_, i) =>
    Math.round(((i + 1) * o.seconds) / (o.faults + 1)),
  );
  const faults = starts.map((s, i) => faultAt(i, s));
  const inFault = (t: number): boolean => starts.some((s) => t >= s && t < s + 60);
  const windows = Array.from({ length: o.seconds }, (_, i) => windowAt(i, o.rate, inFault(i), rnd));
  const totals = { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 };
  for (const w of windows)
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += w.counts[k];
  const all = o.seconds * o.rate;
  const bad = totals.shed + totals.conn;
  const pct = { count: all, p50: 40, p95: 95, p99: 180, max: 900 };
  return runRecordSchema.parse({
    schemaVersion: 1,
    id: "bench-1h",
    scenario: { name: "bench-1h", file: null, seed: 1, source: { name: "bench-1h" } },
    status: "completed",
    verdict: "fail",
    startedAtMs: Date.UTC(2026, 0, 1),
    endedAtMs: Date.UTC(2026, 0, 1) + o.seconds * 1000,
    durationMs: o.seconds * 1000,
    environment: {
      faultline: "0.1.0",
      node: process.version,
      platform: "linux",
      arch: "x64",
      cpus: 2,
      memoryBytes: 8e9,
      hostname: "bench",
    },
    target: { kind: "reference", url: "http://127.0.0.1:1", description: "synthetic" },
    load: {
      targetRate: o.rate,
      achievedRate: o.rate,
      deadlineMs: 2000,
      maxInFlight: 1024,
      maxInFlightHits: 0,
      sendLagP99Ms: 1,
    },
    totals,
    availability: { value: (all - bad) / all, degradedCountsAsGood: true },
    uptime: { value: windows.filter((w) => w.up).length / o.seconds, windowMs: 1000, threshold: 0.99 },
    latency: { intended: pct, service: pct, byPhase: { before: pct, during: pct, after: pct } },
    windows,
    faults,
    errorBudget: { slo: 0.999, budgetRequests: all * 0.001, badRequests: bad, burn: bad / (all * 0.001) },
    projection: null,
    slos: [
      {
        id: "availability",
        description: "availability >= 99.9%",
        metric: "availability",
        comparator: ">=",
        bound: 0.999,
        measured: (all - bad) / all,
        unit: "ratio",
        margin: (all - bad) / all - 0.999,
        passed: false,
      },
    ],
    steadyState: { before: [], after: [] },
    targetMetrics: windows.map((w, i) => ({
      tMs: w.startMs,
      values: {
        'faultline_breaker_state{backend="worker"}': inFault(i) ? 1 : 0,
        'faultline_worker_restarts_total{cause="crash"}': starts.filter((s, j) => j % 2 === 0 && s <= i)
          .length,
      },
    })),
    events: [],
    requestsFile: null,
  });
}
