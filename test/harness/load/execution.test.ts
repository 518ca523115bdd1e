import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import { compileLoadPlan, runLoad, startLoad } from "../../../harness/load/index.js";
import { startServer, until, type TestServer } from "./servers.js";

const servers: TestServer[] = [];
const held: ServerResponse[] = [];

afterEach(async () => {
  held.splice(0).forEach((r) => r.destroy());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(mode: "ok" | "hold" | "slow300"): Promise<TestServer> {
  const s = await startServer((_req, _body, res) => {
    if (mode === "hold") held.push(res);
    else if (mode === "slow300") setTimeout(() => res.end("ok"), 300);
    else res.end("ok");
  });
  servers.push(s);
  return s;
}

const http = [{ kind: "http" as const, path: "/" }];

/** Lets real socket I/O progress while a ManualClock holds time still. */
const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("scheduling on an injected clock", () => {
  it("sends each request at its intended time and stop() ends issuing", async () => {
    const s = await server("ok");
    const clock = new ManualClock(1_000_000);
    const plan = compileLoadPlan({ rate: 50, duration: 10_000, mix: http, seed: 1 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 5000, maxInFlight: 64, clock });
    await until(() => h.snapshot().totals.ok === 1); // row 0, due at 0, answered at 0
    await clock.advanceAsync(200);
    expect(h.snapshot().scheduled).toBe(11); // 0, 20, ..., 200
    await until(() => h.snapshot().inFlight === 0);
    // Row 0 was answered before the clock moved, at 0; rows 1-10 while the clock stands at
    // 200: latencies 0 and 180, 160, ..., 0. Nearest rank of 11: P50 = 6th = 80, P95 = 11th.
    const snap = h.snapshot();
    expect([snap.elapsedMs, snap.inFlight, snap.queued, snap.rateMultiplier]).toEqual([200, 0, 0, 1]);
    expect(snap.totals).toEqual({ ok: 11, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 });
    expect(snap.lastSeconds).toEqual([
      { second: 0, counts: { ok: 11, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 } },
    ]);
    expect(snap.recentLatency).toEqual({ count: 11, p50: 80, p95: 180, p99: 180 });
    h.stop();
    await settle();
    const r = await h.done;
    expect(r.stopped).toBe(true);
    expect(Array.from(r.columns.intended)).toEqual(Array.from({ length: 11 }, (_, k) => k * 20));
    expect(Array.from(r.columns.sent)).toEqual(Array.from(r.columns.intended));
    expect(Array.from(r.columns.outcome)).toEqual(Array(11).fill(OUTCOME_CODE.ok));
    expect(r.startedAtMs).toBe(1_000_000);
  });

  it("setRateMultiplier re-times the next arrival from now on", async () => {
    const s = await server("ok");
    const clock = new ManualClock();
    const plan = compileLoadPlan({ rate: 10, duration: 1000, mix: http, seed: 1 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 5000, maxInFlight: 64, clock });
    await settle();
    await clock.advanceAsync(250);
    h.setRateMultiplier(2);
    await clock.advanceAsync(750);
    await settle();
    const r = await h.done;
    const after = Array.from({ length: 15 }, (_, k) => 275 + 50 * k);
    expect(Array.from(r.columns.intended)).toEqual([0, 100, 200, ...after]);
    expect(r.templates).toEqual(["GET /"]);
  });

  it("a request past its deadline is a timeout ending exactly at intended + deadline", async () => {
    const s = await server("hold");
    const clock = new ManualClock();
    const plan = compileLoadPlan({ rate: 20, duration: 200, mix: http, seed: 1 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 300, maxInFlight: 64, clock });
    await settle();
    await clock.advanceAsync(200);
    await settle();
    await clock.advanceAsync(400);
    const r = await h.done;
    expect(Array.from(r.columns.outcome)).toEqual(Array(4).fill(OUTCOME_CODE.timeout));
    expect(Array.from(r.columns.end)).toEqual([300, 350, 400, 450]);
  });
});

describe("against real failures", () => {
  it("a closed port is conn for every request", async () => {
    const s = await server("ok");
    await s.close();
    const plan = compileLoadPlan({ rate: 20, duration: 200, mix: http, seed: 1 });
    const r = await runLoad(plan, { baseUrl: s.url, deadlineMs: 2000, maxInFlight: 8 });
    expect(Array.from(r.columns.outcome)).toEqual(Array(4).fill(OUTCOME_CODE.conn));
    expect(Array.from(r.columns.status)).toEqual([0, 0, 0, 0]);
  });

  it("the in-flight cap queues due requests FIFO, counts and reports it, and latency keeps the wait", async () => {
    const s = await server("slow300");
    const plan = compileLoadPlan({ rate: 50, duration: 1000, mix: http, seed: 1 });
    const r = await runLoad(plan, { baseUrl: s.url, deadlineMs: 10_000, maxInFlight: 5 });
    const c = r.columns;
    // 5 slots held 300 ms each serve 16.7 req/s against 50 arriving: every arrival after the
    // first five finds the cap full.
    expect([r.maxInFlightHits, r.expiredUnsent]).toEqual([45, 0]);
    expect(r.events.map((e) => e.kind)).toEqual(["max-in-flight", "max-in-flight"]);
    expect(r.events[1]?.message).toMatch(/: 45 requests waited, 0 expired unsent/);
    expect(Array.from(c.outcome)).toEqual(Array(50).fill(OUTCOME_CODE.ok));
    // FIFO: sends happen in intended order.
    for (let i = 1; i < 50; i++) expect(c.sent[i]).toBeGreaterThanOrEqual(c.sent[i - 1]);
    // The last request (intended 980) waits for nine waves of 300 ms after the first: it ends
    // at >= 3000, so its latency from intended time is >= 2020, while its service time stays
    // about one hold (>= 300). A closed-loop tool would report only the latter.
    expect(c.end[49] - c.intended[49]).toBeGreaterThanOrEqual(2019);
    for (let i = 0; i < 50; i++) expect(c.end[i] - c.sent[i]).toBeGreaterThanOrEqual(299);
  });

  it("a slot freed by a deadline goes at once to the next queued request", async () => {
    const s = await server("hold");
    const clock = new ManualClock();
    const plan = compileLoadPlan({ rate: 10, duration: 300, mix: http, seed: 1 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 300, maxInFlight: 1, clock });
    await settle();
    clock.advance(600);
    await settle();
    const r = await h.done;
    const c = r.columns;
    expect(Array.from(c.sent)).toEqual([0, 300, 400]);
    expect(Array.from(c.end)).toEqual([300, 400, 500]);
    expect(Array.from(c.outcome)).toEqual(Array(3).fill(OUTCOME_CODE.timeout));
    expect([r.maxInFlightHits, r.expiredUnsent]).toEqual([2, 0]);
    expect(r.events.map((e) => [e.tMs, e.message])).toEqual([
      [100, "in-flight cap of 1 reached; due requests wait for a free slot"],
      [
        400,
        "in-flight cap episode over after 300 ms: 2 requests waited, 0 expired unsent (recorded as timeout)",
      ],
    ]);
  });

  it("when timers fire late, a queued request already past its deadline is a timeout never sent", async () => {
    /** Every timer fires 150 ms late, as on an overloaded machine. */
    class LateClock extends ManualClock {
      override setTimeout(fn: () => void, ms: number) {
        return super.setTimeout(fn, ms + 150);
      }
    }
    const s = await server("hold");
    const clock = new LateClock();
    const plan = compileLoadPlan({ rate: 10, duration: 300, mix: http, seed: 1 });
    const h = startLoad(plan, { baseUrl: s.url, deadlineMs: 300, maxInFlight: 1, clock });
    await settle();
    // 250: the late tick issues rows 1 and 2 behind row 0. 450: row 0's deadline (300) is
    // handled; row 1's deadline (400) has passed too, so it is never sent; row 2 goes with 50
    // ms left and times out at 500 (handled at 650).
    clock.advance(700);
    await settle();
    const r = await h.done;
    const c = r.columns;
    expect(Array.from(c.sent)).toEqual([0, Number.NaN, 450]);
    expect(Array.from(c.end)).toEqual([300, 400, 500]);
    expect(Array.from(c.outcome)).toEqual(Array(3).fill(OUTCOME_CODE.timeout));
    expect([r.maxInFlightHits, r.expiredUnsent]).toEqual([2, 1]);
    expect(r.events.map((e) => [e.tMs, e.message])).toEqual([
      [250, "in-flight cap of 1 reached; due requests wait for a free slot"],
      [
        450,
        "in-flight cap episode over after 200 ms: 2 requests waited, 1 expired unsent (recorded as timeout)",
      ],
    ]);
  });
});
