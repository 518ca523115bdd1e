import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import { compileLoadPlan, startLoad, type LoadHandle } from "../../../harness/load/index.js";
import { retryAfterMs } from "../../../harness/load/retry-after.js";
import { RetryBook } from "../../../harness/load/retry-book.js";
import { finalAttemptCounts, retrySuccess, summarizeRetries } from "../../../harness/sla/retries.js";
import { RETRY_COUNT_HEADER } from "../../../reference-service/contract.js";
import { startServer, until, type TestServer } from "./servers.js";

describe("retryAfterMs: the wait a Retry-After header asks for", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");

  it("reads delta-seconds and HTTP-dates (IMF-fixdate and the obsolete RFC 850 form)", () => {
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Mon, 23 Nov 2026 12:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Monday, 23-Nov-26 12:00:02 GMT", now)).toBe(2000);
    // A date already past asks for no wait at all.
    expect(retryAfterMs("Mon, 23 Nov 2026 11:59:00 GMT", now)).toBe(0);
  });

  it("gives undefined for what a client cannot act on", () => {
    for (const v of [undefined, "", "-1", "1.5", "+2", "soon", "Mon, 99 Foo 2026"])
      expect(retryAfterMs(v, now)).toBeUndefined();
  });
});

describe("RetryBook", () => {
  it("hands out retries in due order, ties in booking order, and links each to its row", () => {
    const book = new RetryBook(10_000);
    expect(book.shed(0, 0, 100, 2000, true)).toBe(2100);
    expect(book.shed(1, 1, 200, 1000, true)).toBe(1200);
    expect(book.shed(2, 0, 300, 900, true)).toBe(1200);
    expect([book.nextAt, book.pendingCount]).toEqual([1200, 3]);
    const order = [book.take(), book.take(), book.take()];
    expect(order.map((p) => p?.of)).toEqual([1, 2, 0]);
    expect(order.map((p) => p?.template)).toEqual([1, 0, 0]);
    order.forEach((p, i) => p && book.sent(p, 10 + i));
    expect([book.isRetry(10), book.isRetry(2)]).toEqual([true, false]);
    expect(book.log()).toEqual({
      links: [
        { row: 10, of: 1, retryAfterMs: 1000 },
        { row: 11, of: 2, retryAfterMs: 900 },
        { row: 12, of: 0, retryAfterMs: 2000 },
      ],
      withoutRetryAfter: 0,
      unsent: 0,
    });
  });

  it("retries a request once only, and counts shed answers it cannot retry", () => {
    const book = new RetryBook(5000);
    expect(book.shed(0, 0, 0, 1000, true)).toBe(1000);
    const p = book.take();
    if (p) book.sent(p, 7);
    expect(book.shed(7, 0, 1000, 1000, true)).toBeUndefined(); // the retry itself was shed
    expect(book.shed(8, 0, 1000, undefined, true)).toBeUndefined(); // no usable Retry-After
    expect(book.shed(9, 0, 4500, 1000, true)).toBeUndefined(); // due at 5500, after the end
    expect(book.shed(10, 0, 100, 4900, true)).toBe(5000); // due exactly at the end: sent
    expect(book.shed(11, 0, 100, 1000, false)).toBeUndefined(); // the load has stopped
    book.dropPending();
    expect(book.log()).toEqual({
      links: [{ row: 7, of: 0, retryAfterMs: 1000 }],
      withoutRetryAfter: 1,
      unsent: 3,
    });
    expect(book.pendingCount).toBe(0);
  });
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * A real server that sheds chosen first attempts (by the order it receives them) and answers
 * every marked retry 200; it keeps each request's retry header.
 */
async function shedding(plan: Record<number, Record<string, string>>): Promise<{
  server: TestServer;
  seen: (string | undefined)[];
}> {
  const seen: (string | undefined)[] = [];
  let fresh = 0;
  const server = await startServer((req, _body, res) => {
    const marker = req.headers[RETRY_COUNT_HEADER];
    seen.push(typeof marker === "string" ? marker : undefined);
    const shed = marker === undefined ? plan[fresh++] : undefined;
    if (shed === undefined) res.end("ok");
    else {
      res.writeHead(
        shed["status"] === "503" ? 503 : 429,
        shed["retry-after"] ? { "retry-after": shed["retry-after"] } : {},
      );
      res.end("busy");
    }
  });
  servers.push(server);
  return { server, seen };
}

/** Steps a ManualClock through [from, to] in 100 ms, letting each step's answers arrive. */
async function stepTo(clock: ManualClock, h: LoadHandle, toMs: number): Promise<void> {
  while (h.snapshot().elapsedMs < toMs) {
    await clock.advanceAsync(100);
    await until(() => h.snapshot().inFlight === 0);
  }
}

/**
 * 10 req/s of GET / for `durationMs` against a shedding server, on a ManualClock, started and
 * run until the first shed answer has arrived.
 */
async function shedLoad(
  shed: Record<number, Record<string, string>>,
  durationMs: number,
  honourRetryAfter: boolean,
): Promise<{ h: LoadHandle; clock: ManualClock; seen: (string | undefined)[] }> {
  const { server, seen } = await shedding(shed);
  const clock = new ManualClock();
  const plan = compileLoadPlan({
    rate: 10,
    duration: durationMs,
    mix: [{ kind: "http", path: "/" }],
    seed: 1,
  });
  const h = startLoad(plan, {
    baseUrl: server.url,
    deadlineMs: 5000,
    maxInFlight: 8,
    clock,
    honourRetryAfter,
  });
  await until(() => h.snapshot().totals.shed === 1);
  return { h, clock, seen };
}

describe("the load honours Retry-After (real server, injected clock)", () => {
  it("sends a shed request once more at its Retry-After, marked, as a row in intended order", async () => {
    const { h, clock, seen } = await shedLoad(
      {
        0: { "retry-after": "1" },
        1: { status: "503" }, // shed with no Retry-After: not retried
        13: { "retry-after": "1" }, // at 1300: due at 2300, after the plan's end, still sent
        14: { "retry-after": "61" }, // at 1400: due past the plan's end + 60 s, not sent
      },
      1500,
      true,
    );
    await stepTo(clock, h, 2300);
    const r = await h.done;
    const c = r.columns;
    // Row 0 was shed at 0 asking for 1 s: its retry is due at 1000 and goes before the arrival
    // due at the same instant.
    expect(Array.from(c.intended)).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1000, 1100, 1200, 1300, 1400, 2300,
    ]);
    const S = OUTCOME_CODE.shed;
    const O = OUTCOME_CODE.ok;
    expect(Array.from(c.outcome)).toEqual([S, S, O, O, O, O, O, O, O, O, O, O, O, O, S, S, O]);
    expect(Array.from(c.status)).toEqual([429, 503, ...Array(12).fill(200), 429, 429, 200]);
    expect(seen.map((m, i) => (m === undefined ? null : `${i}:${m}`)).filter(Boolean)).toEqual([
      "10:1",
      "16:1",
    ]);
    expect(r.retries).toEqual({
      links: [
        { row: 10, of: 0, retryAfterMs: 1000 },
        { row: 16, of: 14, retryAfterMs: 1000 },
      ],
      withoutRetryAfter: 1,
      unsent: 1,
    });

    // What the SLA engine makes of it: rows 0 and 14 count by their retries (15 requests); the
    // retry-after ratio counts the answer without a usable Retry-After as a failed retry.
    expect(finalAttemptCounts(c, r.retries)).toEqual({
      ok: 13,
      degraded: 0,
      shed: 2,
      error: 0,
      timeout: 0,
      conn: 0,
    });
    const summary = summarizeRetries(c, r.retries ?? { links: [], withoutRetryAfter: 0, unsent: 0 });
    expect(summary).toEqual({
      sent: 2,
      outcomes: { ok: 2, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 },
      withoutRetryAfter: 1,
      unsent: 1,
      retryAfterMs: { count: 2, p50: 1000, p95: 1000, p99: 1000, max: 1000 },
    });
    expect(retrySuccess(summary, true)).toEqual({ ratio: 2 / 3, attempts: 3, good: 2 });
  });

  it("without honourRetryAfter a shed answer is final and nothing is logged", async () => {
    const { h, clock, seen } = await shedLoad({ 0: { "retry-after": "1" } }, 1500, false);
    await stepTo(clock, h, 1500);
    const r = await h.done;
    expect(r.columns.length).toBe(15);
    expect(r.retries).toBeNull();
    expect(seen.every((m) => m === undefined)).toBe(true);
  });

  it("stop() while a retry is pending ends the run and counts the retry as unsent", async () => {
    const { h, clock } = await shedLoad({ 0: { "retry-after": "5" } }, 60_000, true);
    await stepTo(clock, h, 300);
    h.stop();
    const r = await h.done;
    expect(r.columns.length).toBe(4); // 0, 100, 200, 300
    expect(r.retries).toEqual({ links: [], withoutRetryAfter: 0, unsent: 1 });
  });
});
