import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import type { K6LoadResult, K6RunOptions } from "../../../harness/k6/driver.js";
import { k6LoadDriver, k6LoadResult } from "../../../harness/k6/load-driver.js";
import type { K6Requests } from "../../../harness/k6/summary.js";
import { compileLoadPlan } from "../../../harness/load/index.js";
import { loadScenarioFile } from "./examples.js";

const FILES = { script: "/r/k6-script.ts", points: "/r/k6-points.json", summary: "/r/k6-summary.json" };

// k6 started 400 ms after the run's origin; times below are from k6's own start.
const REQUESTS: K6Requests = {
  rows: [
    { intended: 0, sent: 2, end: 12, outcome: "ok", status: 200, template: 0 },
    { intended: 50, sent: 51, end: 71, outcome: "shed", status: 503, template: 1 },
    { intended: 100, sent: 103, end: 203, outcome: "ok", status: 200, template: 0 },
  ],
  startEpochMs: 1_000_400,
  source: "faultline_request",
  droppedIterations: 2,
};

const k6Result = (requests: K6Requests): K6LoadResult => ({
  exitCode: 99,
  thresholdsFailed: true,
  requests,
  summary: null,
  files: FILES,
});

async function baselinePlan() {
  const s = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
  return { s, plan: compileLoadPlan({ ...s.load, seed: s.seed }) };
}

describe("k6 rows on the run's time axis (k6LoadResult)", () => {
  it("shifts every time by k6's start-up and derives the load section from the shifted rows", async () => {
    const { plan } = await baselinePlan();
    const { load, report } = k6LoadResult(k6Result(REQUESTS), {
      originMs: 1_000_000,
      plan,
      templates: ["chat", "chat-stream"],
      durationMs: 12_900,
      stopped: false,
    });
    expect(Array.from(load.columns.intended)).toEqual([400, 450, 500]);
    expect(Array.from(load.columns.sent)).toEqual([402, 451, 503]);
    expect(Array.from(load.columns.end)).toEqual([412, 471, 603]);
    expect(Array.from(load.columns.outcome)).toEqual([OUTCOME_CODE.ok, OUTCOME_CODE.shed, OUTCOME_CODE.ok]);
    expect(Array.from(load.columns.status)).toEqual([200, 503, 200]);
    expect(Array.from(load.columns.template)).toEqual([0, 1, 0]);
    expect({ ...load, columns: undefined }).toEqual({
      columns: undefined,
      // k6's rows are in memory: the row source reads the same columns.
      requests: expect.objectContaining({ length: 3 }),
      requestsFile: null,
      templates: ["chat", "chat-stream"],
      startedAtMs: 1_000_000,
      durationMs: 12_900,
      plannedDurationMs: 12_000,
      // 240 planned requests over 12 s.
      targetRate: 20,
      // 3 sends, first at 402 and last at 503: 2 gaps in 101 ms.
      achievedRate: 2 / 0.101,
      // Send lags 2, 1, 3 ms: nearest-rank P99 of three is the largest.
      sendLagP99Ms: 3,
      maxInFlightHits: 0,
      expiredUnsent: 0,
      events: [],
      stopped: false,
      retries: null,
    });
    expect(report).toEqual({
      exitCode: 99,
      droppedIterations: 2,
      startOffsetMs: 400,
      source: "faultline_request",
    });
  });

  it("no rows: no offset, nothing sent", async () => {
    const { plan } = await baselinePlan();
    const empty: K6Requests = {
      rows: [],
      startEpochMs: Infinity,
      source: "http_req_duration",
      droppedIterations: 0,
    };
    const { load, report } = k6LoadResult(k6Result(empty), {
      originMs: 1_000_000,
      plan,
      templates: ["chat"],
      durationMs: 10,
      stopped: true,
    });
    expect([load.columns.length, load.achievedRate, load.sendLagP99Ms, load.stopped]).toEqual([
      0,
      0,
      null,
      true,
    ]);
    expect(report.startOffsetMs).toBe(0);
  });
});

describe("k6LoadDriver (a load handle in place of startLoad)", () => {
  it("sets the origin after the caller holds the handle, passes stop on to k6, and reports once done", async () => {
    const { s, plan } = await baselinePlan();
    const clock = new ManualClock(1_000_000);
    let given: K6RunOptions | null = null;
    let finish: (r: K6LoadResult) => void = () => undefined;
    const driver = k6LoadDriver(s, {
      dir: "/r",
      env: { PATH: "/bin" },
      run: (_scenario, opts) => {
        given = opts;
        return new Promise((r) => (finish = r));
      },
    });
    const starts: number[] = [];
    const handle = driver.start(plan, {
      baseUrl: "http://127.0.0.1:9",
      deadlineMs: 5000,
      maxInFlight: 512,
      clock,
      onStart: (t) => starts.push(t),
    });
    expect(starts).toEqual([]);
    await Promise.resolve();
    await Promise.resolve();
    expect(starts).toEqual([1_000_000]);
    const opts = given as K6RunOptions | null;
    expect([opts?.baseUrl, opts?.dir, opts?.env]).toEqual(["http://127.0.0.1:9", "/r", { PATH: "/bin" }]);
    expect(driver.report()).toBe(null);

    clock.advance(1500);
    expect(handle.snapshot().elapsedMs).toBe(1500);
    handle.setRateMultiplier(3); // a load-burst is in k6's stages; nothing to do here
    handle.stop();
    expect(opts?.signal?.aborted).toBe(true);
    finish(k6Result(REQUESTS));
    const load = await handle.done;
    expect([load.startedAtMs, load.durationMs, load.stopped, load.templates]).toEqual([
      1_000_000,
      1500,
      true,
      ["chat", "chat-stream"],
    ]);
    expect(driver.report()).toEqual({
      exitCode: 99,
      droppedIterations: 2,
      startOffsetMs: 400,
      source: "faultline_request",
    });
  });

  it("an interrupt of the run stops k6 as stop() does", async () => {
    const { s, plan } = await baselinePlan();
    let signal: AbortSignal | undefined;
    const driver = k6LoadDriver(s, {
      dir: "/r",
      env: {},
      run: (_scenario, opts) => {
        signal = opts.signal;
        return new Promise(() => undefined);
      },
    });
    const interrupt = new AbortController();
    driver.start(plan, {
      baseUrl: "http://127.0.0.1:9",
      deadlineMs: 5000,
      maxInFlight: 512,
      clock: new ManualClock(0),
      signal: interrupt.signal,
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(signal?.aborted).toBe(false);
    interrupt.abort();
    expect(signal?.aborted).toBe(true);
  });
});
