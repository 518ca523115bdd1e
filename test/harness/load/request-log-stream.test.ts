import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import { compileLoadPlan, startLoad } from "../../../harness/load/index.js";
import { RequestLog } from "../../../harness/load/request-log.js";
import { decodeRequests, encodeRequests } from "../../../harness/record/requests-file.js";
import { RequestsFileWriter } from "../../../harness/record/requests-stream.js";
import type { RequestColumns } from "../../../harness/sla/columns.js";
import { startServer, until, type TestServer } from "./servers.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "faultline-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const CHUNK = 65_536;

/** Fills a log: row i intended at i ms, answered `lag` rows later (out of order by lag). */
function fill(log: RequestLog, n: number, lag: number, held: number[] = []): void {
  const answer = (i: number): void => {
    log.setSent(i, i + 0.5);
    log.setFirstByte(i, i + 1);
    log.finish(i, i + 2 + (i % 7), i % 11 === 0 ? OUTCOME_CODE.error : OUTCOME_CODE.ok, 200, i % 1000);
  };
  for (let i = 0; i < n; i++) {
    log.add(i, i % 3);
    held.push(log.chunksHeld);
    if (i >= lag) answer(i - lag);
  }
  for (let i = Math.max(0, n - lag); i < n; i++) answer(i);
}

describe("a streaming request log", () => {
  it("writes the same requests.bin as the in-memory log, holding only the chunks in flight", () => {
    const n = 3 * CHUNK + 123;
    const memory = new RequestLog();
    fill(memory, n, 500);
    const file = path.join(dir, "requests.bin");
    const writer = new RequestsFileWriter(file);
    const streaming = new RequestLog(writer);
    const held: number[] = [];
    fill(streaming, n, 500, held);
    streaming.close();
    expect(writer.finish()).toBe(n);
    expect(readFileSync(file).equals(encodeRequests(memory.columns()))).toBe(true);
    // At most the chunk being appended to and the one with answers still out.
    expect(held.reduce((m, x) => Math.max(m, x), 0)).toBe(2);
    expect(() => streaming.columns()).toThrow("this request log streams its rows to a requests file");
    expect(() => streaming.intended(0)).toThrow("row 0 was already written to the requests file");
  });

  it("keeps a chunk while one of its rows waits, however many chunks follow", () => {
    const appended: number[] = [];
    const log = new RequestLog({
      append: (_c: RequestColumns, from: number, to: number) => appended.push(to - from),
    });
    log.add(0, 0); // never answered until the end
    for (let i = 1; i < 3 * CHUNK; i++) {
      log.add(i, 0);
      log.finish(i, i + 1, OUTCOME_CODE.ok, 200, 0);
    }
    log.add(3 * CHUNK, 0);
    expect([appended, log.chunksHeld, log.pending()]).toEqual([[], 4, 2]);
    log.finish(0, 5, OUTCOME_CODE.ok, 200, 0);
    log.add(3 * CHUNK + 1, 0);
    // Released only at the next chunk boundary: three whole chunks go together then.
    for (let i = 3 * CHUNK + 2; i <= 4 * CHUNK; i++) log.add(i, 0);
    expect(appended).toEqual([CHUNK, CHUNK, CHUNK]);
    log.close();
    expect(appended).toEqual([CHUNK, CHUNK, CHUNK, CHUNK, 1]);
  });
});

describe("a load that streams its requests file", () => {
  it("writes every row to the file and says to read it from there", async () => {
    const s = await startServer((_req, _body, res) => res.end("ok"));
    servers.push(s);
    const clock = new ManualClock(1_000_000);
    const plan = compileLoadPlan({ rate: 50, duration: 200, mix: [{ kind: "http", path: "/" }], seed: 1 });
    const file = path.join(dir, "load.bin");
    const h = startLoad(plan, {
      baseUrl: s.url,
      deadlineMs: 5000,
      maxInFlight: 64,
      clock,
      requestsFile: file,
    });
    await until(() => h.snapshot().totals.ok === 1);
    await clock.advanceAsync(200);
    await until(() => h.snapshot().inFlight === 0);
    await clock.advanceAsync(10);
    const r = await h.done;
    expect(r.requestsFile).toBe(file);
    expect(() => r.columns).toThrow(
      `this load streamed its rows to ${file}: read result.requests instead of columns`,
    );
    const back = decodeRequests(readFileSync(file));
    expect(Array.from(back.intended)).toEqual(Array.from({ length: 10 }, (_, k) => k * 20));
    expect(Array.from(back.outcome)).toEqual(Array(10).fill(OUTCOME_CODE.ok));
    let rows = 0;
    r.requests.forEachBlock((b) => (rows += b.length));
    expect([rows, r.achievedRate > 0]).toEqual([10, true]);
  });
});
