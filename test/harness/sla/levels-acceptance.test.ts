import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import { compileLoadPlan, levelMarking, startLoad } from "../../../harness/load/index.js";
import { analyzeRun } from "../../../harness/sla/index.js";
import { BREAKER_STATE_VALUE, METRICS } from "../../../reference-service/contract.js";
import { startServer, until, type TestServer } from "../load/servers.js";

/**
 * Acceptance test of #15 part A: a scripted target on loopback marks its level on a known
 * schedule with its own marking (header x-served-by: primary = full, cache = a fallback), the
 * real load client classifies every answer on an injected clock that moves one arrival at a
 * time (so each request is sent and answered at its intended time, exactly), and the SLA
 * engine reports both levels and all three per-fault times, checked exactly against the
 * schedule worked out by hand.
 *
 * 10 req/s for 20 s (200 requests, one every 100 ms), 1 s windows, 2 s of stability.
 *   [0, 5 s)        primary                          fault "kill" at 5 s (instant)
 *   [5 s, 6 s)      500, no signal (10 requests)
 *   [6 s, 8 s)      cache: answered, not full (20)
 *   [8 s, 12 s)     primary                          fault "blip" at 12 s (instant)
 *   [12 s, 12.5 s)  500, no signal (5)
 *   [12.5 s, 20 s)  primary; the breaker metric reads open only at 14 s, after it was back.
 */
const SCRIPT: readonly [from: number, answer: "primary" | "cache" | "error"][] = [
  [0, "primary"],
  [5000, "error"],
  [6000, "cache"],
  [8000, "primary"],
  [12_000, "error"],
  [12_500, "primary"],
];
const answerAt = (t: number): "primary" | "cache" | "error" =>
  SCRIPT.reduce<"primary" | "cache" | "error">((a, [from, x]) => (t >= from ? x : a), "primary");

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function scriptedRun(headline: "answered" | "full" = "full") {
  const clock = new ManualClock(1_000_000);
  const origin = clock.now();
  const s = await startServer((_req, _body, res) => {
    const a = answerAt(clock.now() - origin);
    if (a === "error") {
      res.statusCode = 500;
      res.end("boom");
      return;
    }
    res.setHeader("x-served-by", a);
    res.end("{}");
  });
  servers.push(s);
  const plan = compileLoadPlan({ rate: 10, duration: 20_000, mix: [{ kind: "http", path: "/" }], seed: 1 });
  const h = startLoad(plan, {
    baseUrl: s.url,
    deadlineMs: 5000,
    maxInFlight: 8,
    clock,
    levels: levelMarking({ header: "x-served-by", full: ["primary"] }),
  });
  // One arrival at a time: every request is answered before the clock moves on.
  for (let k = 1; k <= 200; k++) {
    await until(() => h.snapshot().inFlight === 0 && h.snapshot().scheduled === k);
    await clock.advanceAsync(100);
  }
  const load = await h.done;
  return analyzeRun({
    columns: load.columns,
    durationMs: 20_000,
    faults: [
      { id: "kill", kind: "process-kill", startMs: 5000, endMs: null },
      { id: "blip", kind: "process-kill", startMs: 12_000, endMs: null },
    ],
    // As a scrape would have recorded it: open once, 2 s after the blip (service back at 12.5 s).
    metricSamples: [
      { tMs: 11_000, values: { [`${METRICS.breakerState}{backend="worker"}`]: BREAKER_STATE_VALUE.closed } },
      { tMs: 14_000, values: { [`${METRICS.breakerState}{backend="worker"}`]: BREAKER_STATE_VALUE.open } },
    ],
    slos: [
      { kind: "availability", id: "answered", min: 0.925, level: "answered" },
      { kind: "availability", id: "full", min: 0.9 },
      { kind: "time-to-recover", id: "answer-again", max: 1000, fault: "kill", level: "answered" },
      { kind: "time-to-recover", id: "full-service", max: 2999, fault: "kill" },
    ],
    windowMs: 1000,
    threshold: 0.99,
    stabilityMs: 2000,
    // What the runner passes for the first availability SLO's level (default full).
    degradedCountsAsGood: headline === "answered",
    seed: 1,
  });
}

describe("two levels against a scripted target (issue 15 acceptance)", () => {
  it("classifies by the target's marking, then reports both levels and three times per fault exactly", async () => {
    const r = await scriptedRun();
    // 200 requests, 15 errors, 20 answered from the cache.
    expect(r.totals).toEqual({ ok: 165, degraded: 20, shed: 0, error: 15, timeout: 0, conn: 0 });
    expect(r.levels).toEqual({
      // 185/200; windows down: 5 s and 12 s -> 18/20.
      answered: { availability: 0.925, uptime: 0.9 },
      // 165/200; windows down: 5, 6, 7 and 12 s -> 16/20.
      full: { availability: 0.825, uptime: 0.8 },
    });
    const times = r.faults.map((f) => ({
      id: f.id,
      detect: f.timeToDetectMs,
      by: f.detectedBy,
      note: f.detectNote,
      answerAgain: f.timeToAnswerAgainMs,
      fullService: f.timeToFullServiceMs,
    }));
    expect(times).toEqual([
      // First cache answer at 6 s; answering again from 6 s (6-8 s healthy counting the cache);
      // primary answers from 8 s.
      { id: "kill", detect: 1000, by: "answer", note: null, answerAgain: 1000, fullService: 3000 },
      {
        id: "blip",
        // Back at both levels at 12.5 s; its only signal (the breaker at 14 s) came after.
        detect: null,
        by: null,
        note: "no signal before the service was back (answering at full service 500 ms after the fault); its first signal (breaker) came at 2000 ms",
        answerAgain: 500,
        fullService: 500,
      },
    ]);
    // Requests from each fault's start until it was back at full service: the kill's 10 errors
    // and 20 fallback answers, the blip's 5 errors.
    expect(r.faults.map((f) => f.requests)).toEqual([
      { total: 30, failed: 10, degraded: 20 },
      { total: 5, failed: 5, degraded: 0 },
    ]);
    expect(r.slos.map((s) => [s.id, s.description, s.measured, s.passed])).toEqual([
      ["answered", "availability (answered) >= 92.5%", 0.925, true],
      ["full", "availability (full service) >= 90%", 0.825, false],
      ["answer-again", "time to answer again kill <= 1000 ms", 1000, true],
      ["full-service", "time to full service kill <= 2999 ms", 3000, false],
    ]);
  });

  it("counts a fault's fallback answers in its requests even when the headline is answered", async () => {
    const r = await scriptedRun("answered");
    // The headline recovery is at 6 s (answering again), full service at 8 s: counted to 8 s.
    expect(r.faults.map((f) => [f.timeToRecoverMs, f.timeToFullServiceMs, f.requests])).toEqual([
      [1000, 3000, { total: 30, failed: 10, degraded: 20 }],
      [500, 500, { total: 5, failed: 5, degraded: 0 }],
    ]);
    expect(r.availability).toEqual({ value: 0.925, degradedCountsAsGood: true, attempts: "each" });
  });

  it("reads the reference service's marking when the scenario names none", async () => {
    const clock = new ManualClock(0);
    const s = await startServer((req, _body, res) => {
      // The reference header; the custom one is ignored without a marking that names it.
      if (req.url === "/fallback") res.setHeader("x-faultline-service-level", "degraded");
      res.setHeader("x-served-by", "cache");
      res.end("{}");
    });
    servers.push(s);
    const mix = [
      { kind: "http" as const, path: "/fallback" },
      { kind: "http" as const, path: "/primary" },
    ];
    const plan = compileLoadPlan({ rate: 10, duration: 2000, mix, seed: 3 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 5000, maxInFlight: 8, clock });
    for (let k = 1; k <= 20; k++) {
      await until(() => h.snapshot().inFlight === 0 && h.snapshot().scheduled === k);
      await clock.advanceAsync(100);
    }
    const load = await h.done;
    const outcomes = Array.from(load.columns.outcome);
    const templates = Array.from(load.columns.template);
    expect(outcomes).toEqual(
      // Template 0 is /fallback (the mix's order).
      templates.map((t) => (t === 0 ? OUTCOME_CODE.degraded : OUTCOME_CODE.ok)),
    );
    expect(new Set(outcomes)).toEqual(new Set([OUTCOME_CODE.ok, OUTCOME_CODE.degraded]));
  });
});
