import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeRun, type SlaReport } from "../../../harness/sla/index.js";
import { compileLoadPlan, startLoad, type LoadResult } from "../../../harness/load/index.js";
import { startServer, type TestServer } from "./servers.js";

/**
 * The load generator and the SLA engine together against a real local server that misbehaves
 * on a known schedule (ms from the start of the load):
 *
 *   [1000, 3000)   503 + Retry-After (shedding)
 *   [4000, 5500)   listener closed and connections dropped (refused)
 *   [6500, 7500)   requests held without an answer, all answered at 7500 (stall)
 *   [8500, 12500)  every answer 200 ms late
 *
 * 100 req/s for 13.5 s (gap 10 ms). Reported times must match the schedule to within one
 * inter-arrival gap plus 50 ms (the acceptance tolerance: timers, socket setup and a CPU
 * shared with other test processes).
 */
const RATE = 100;
const DURATION = 13_500;
const TOLERANCE = 1000 / RATE + 50;
const LATENCY_SLO = 150;

let server: TestServer;
let t0 = 0;
let result: LoadResult;
let report: SlaReport;
const held: ServerResponse[] = [];
const timers: NodeJS.Timeout[] = [];
const actual = { refuse: 4000, accept: 5500, release: 7500 };

function answer(res: ServerResponse): void {
  if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
}

beforeAll(async () => {
  server = await startServer((_req, _body, res) => {
    const t = performance.now() - t0;
    if (t >= 1000 && t < 3000) res.writeHead(503, { "retry-after": "1" }).end("busy");
    else if (t >= 6500 && t < 7500) held.push(res);
    else if (t >= 8500 && t < 12_500) setTimeout(() => answer(res), 200);
    else answer(res);
  });
  const plan = compileLoadPlan({
    rate: RATE,
    duration: DURATION,
    mix: [{ kind: "http", path: "/work" }],
    seed: 1,
  });
  // Warm-up requests (not recorded) let undici compile its parser and open connections first;
  // without them that start-up cost poses as ~300 ms of downtime at the start. The server's
  // schedule starts when the load's time origin does, after the warm-up.
  const handle = startLoad(plan, {
    baseUrl: server.url,
    deadlineMs: 2000,
    maxInFlight: 512,
    warmup: 16,
    onStart: () => {
      t0 = performance.now();
      // Timers fire late on a loaded machine; the test compares against when each switch
      // really happened (the 503 and +200 ms windows are decided per request on arrival).
      const at = (ms: number, name: keyof typeof actual, fn: () => unknown): void => {
        timers.push(
          setTimeout(() => {
            actual[name] = performance.now() - t0;
            void fn();
          }, ms),
        );
      };
      at(4000, "refuse", () => server.refuse());
      at(5500, "accept", () => server.accept());
      at(7500, "release", () => held.splice(0).forEach(answer));
    },
  });
  result = await handle.done;
  report = analyzeRun({
    columns: result.columns,
    durationMs: DURATION,
    faults: [
      { id: "shed", kind: "http-503", startMs: 1000, endMs: 3000 },
      { id: "refuse", kind: "refuse", startMs: 4000, endMs: 5500 },
      { id: "stall", kind: "stall", startMs: 6500, endMs: 7500 },
      { id: "slow", kind: "latency", startMs: 8500, endMs: 12_500 },
    ],
    windowMs: 250,
    stabilityMs: 500,
    threshold: 0.99,
    latencySloMs: LATENCY_SLO,
    seed: 1,
  });
}, 30_000);

afterAll(async () => {
  timers.forEach(clearTimeout);
  held.splice(0).forEach(answer);
  await server.close();
});

/**
 * The timing assertions need a generator that kept its schedule: if its own send lag P99
 * exceeds 50 ms (seen when a dozen other processes load the two shared cores), the run is
 * void as a timing measurement, exactly as the harness marks such runs, and those tests are
 * reported as skipped with the reason rather than passed or failed on noise.
 */
function requireOnSchedule(ctx: { skip: (condition: boolean, note?: string) => void }): void {
  const lag = result.sendLagP99Ms ?? 0;
  ctx.skip(
    lag > 50,
    `load generator could not keep its schedule (send-lag P99 ${lag.toFixed(0)} ms > 50 ms): CPU overloaded`,
  );
}

const near = (measured: number | null, expected: number): void => {
  expect(measured).not.toBe(null);
  expect(Math.abs((measured as number) - expected)).toBeLessThanOrEqual(TOLERANCE);
};

describe("a server misbehaving on a known schedule", () => {
  it("every planned request is recorded", () => {
    expect(result.columns.length).toBe((RATE * DURATION) / 1000);
    expect(result.maxInFlightHits).toBe(0);
    expect(result.columns.outcome.every((o) => o <= 5)).toBe(true);
  });

  it("downtime intervals match the schedule", (ctx) => {
    requireOnSchedule(ctx);
    const iv = report.downtime;
    expect(iv.length).toBe(4);
    // Stalled requests intended after release - 150 ms are answered within the latency SLO.
    const expected = [
      [1000, 3000],
      [actual.refuse, actual.accept],
      [6500, actual.release - LATENCY_SLO],
      [8500, 12_500],
    ];
    iv.forEach((interval, k) => {
      near(interval.startMs, expected[k]?.[0]);
      near(interval.endMs, expected[k]?.[1]);
    });
  });

  it("outcome classes match the schedule", (ctx) => {
    requireOnSchedule(ctx);
    const t = report.totals;
    near(t.shed * (1000 / RATE), 2000);
    near(t.conn * (1000 / RATE), actual.accept - actual.refuse);
    expect([t.error, t.timeout, t.degraded]).toEqual([0, 0, 0]);
  });

  it("recovery is measured from each fault's end, and only shedding is detected", (ctx) => {
    requireOnSchedule(ctx);
    const byId = Object.fromEntries(report.faults.map((f) => [f.id, f]));
    for (const id of ["shed", "refuse", "stall", "slow"]) near(byId[id]?.timeToRecoverMs ?? null, 0);
    near(byId.shed?.timeToDetectMs ?? null, 0);
    expect([byId.refuse?.timeToDetectMs, byId.stall?.timeToDetectMs, byId.slow?.timeToDetectMs]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it("the stall shows in the intended-time P99", (ctx) => {
    requireOnSchedule(ctx);
    // 1350 requests: P99 is the 14th largest latency. The 100 stalled requests (intended every
    // 10 ms from 6500, answered at the release, nominally 7500) are the largest: 1000, 990, ...,
    // so the 14th is release - 6630 (870 when the release is on time).
    near(report.latency.intended.p99, actual.release - 6630);
    // Before the first fault the same percentile is small; the bound leaves room for the
    // ~100 ms scheduling hiccups seen when other test processes load the two shared cores.
    expect(report.latency.byPhase.before.p99 as number).toBeLessThan(300);
  });
});
