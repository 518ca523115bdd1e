import { describe, expect, it } from "vitest";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import {
  BYTES_PER_REQUEST,
  classifyFailure,
  classifyResponse,
  LiveStats,
  PENDING_OUTCOME,
  RequestLog,
  SseChecker,
} from "../../../harness/load/index.js";

describe("classifyResponse", () => {
  const base = { serviceLevel: undefined, expectStatus: null, streamComplete: null };
  it.each([
    { name: "200 without marker", f: { status: 200 }, out: "ok" },
    { name: "204 full", f: { status: 204, serviceLevel: "full" }, out: "ok" },
    { name: "200 degraded", f: { status: 200, serviceLevel: "degraded" }, out: "degraded" },
    { name: "200 minimal", f: { status: 200, serviceLevel: "minimal" }, out: "degraded" },
    { name: "429", f: { status: 429 }, out: "shed" },
    { name: "503", f: { status: 503 }, out: "shed" },
    { name: "500", f: { status: 500 }, out: "error" },
    { name: "404", f: { status: 404 }, out: "error" },
    { name: "302 is not 2xx", f: { status: 302 }, out: "error" },
    { name: "complete stream", f: { status: 200, streamComplete: true }, out: "ok" },
    { name: "incomplete stream is never ok", f: { status: 200, streamComplete: false }, out: "error" },
    {
      name: "incomplete degraded stream",
      f: { status: 200, serviceLevel: "degraded", streamComplete: false },
      out: "error",
    },
    { name: "expected 404 (http template)", f: { status: 404, expectStatus: new Set([404]) }, out: "ok" },
    { name: "200 when only 201 expected", f: { status: 200, expectStatus: new Set([201]) }, out: "error" },
    { name: "503 when 200 expected", f: { status: 503, expectStatus: new Set([200]) }, out: "shed" },
  ])("$name -> $out", ({ f, out }) => {
    expect(classifyResponse({ ...base, ...f })).toBe(out);
  });
});

describe("classifyFailure", () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code });
  it.each([
    { name: "refused", err: withCode("ECONNREFUSED"), deadline: false, out: "conn" },
    { name: "reset", err: withCode("ECONNRESET"), deadline: false, out: "conn" },
    { name: "undici socket closed", err: withCode("UND_ERR_SOCKET"), deadline: false, out: "conn" },
    {
      name: "wrapped reset",
      err: new Error("fetch failed", { cause: withCode("ECONNRESET") }),
      deadline: false,
      out: "conn",
    },
    {
      name: "deadline wins over the abort error",
      err: withCode("UND_ERR_ABORTED"),
      deadline: true,
      out: "timeout",
    },
    { name: "anything else", err: new TypeError("bad"), deadline: false, out: "error" },
  ])("$name -> $out", ({ err, deadline, out }) => {
    expect(classifyFailure(err, deadline)).toBe(out);
  });
});

function check(text: string, splitEvery = 0): SseChecker {
  const c = new SseChecker();
  const buf = Buffer.from(text);
  if (splitEvery <= 0) c.feed(buf);
  else for (let i = 0; i < buf.length; i += splitEvery) c.feed(buf.subarray(i, i + splitEvery));
  c.end();
  return c;
}

const delta = (content: string): string =>
  `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: null }] })}\n\n`;
const finish = `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }] })}\n\n`;
const done = "data: [DONE]\n\n";
const marked = (content: string, level: string): string =>
  `data: ${JSON.stringify({
    choices: [{ delta: { content }, finish_reason: null }],
    faultline: { service_level: level, fallback: level === "minimal" ? "static" : "cpu-model" },
  })}\n\n`;

describe("SseChecker", () => {
  it.each([
    { name: "complete", text: delta("Hi") + delta("!") + finish + done, complete: true, problem: null },
    {
      name: "complete, split every 3 bytes",
      text: delta("Hi") + finish + done,
      split: 3,
      complete: true,
      problem: null,
    },
    {
      name: "complete with CRLF and a keep-alive comment",
      text: (": ping\n\n" + delta("a") + finish + done).replace(/\n/g, "\r\n"),
      complete: true,
      problem: null,
    },
    {
      name: "multi-byte text split mid-character",
      text: delta("héllo ✓") + finish + done,
      split: 1,
      complete: true,
      problem: null,
    },
    {
      name: "[DONE] without trailing blank line",
      text: delta("a") + finish + "data: [DONE]",
      complete: true,
      problem: null,
    },
    {
      name: "cut before [DONE]",
      text: delta("Hi") + finish,
      complete: false,
      problem: "stream ended without [DONE]",
    },
    {
      name: "no finish_reason",
      text: delta("Hi") + done,
      complete: false,
      problem: "stream ended without a finish_reason",
    },
    {
      name: "in-band error event",
      text: delta("Hi") + `data: {"error":{"message":"worker died"}}\n\n` + finish + done,
      complete: false,
      problem: "error event in stream",
    },
    {
      name: "named error event",
      text: delta("Hi") + "event: error\ndata: boom\n\n" + finish + done,
      complete: false,
      problem: "error event in stream",
    },
    {
      name: "undecodable event",
      text: "data: {not json\n\n" + finish + done,
      complete: false,
      problem: "undecodable event in stream",
    },
    { name: "empty body", text: "", complete: false, problem: "stream ended without a finish_reason" },
  ])("$name", ({ text, split, complete, problem }) => {
    const c = check(text, split);
    expect([c.complete, c.problem]).toEqual([complete, problem]);
  });

  it.each([
    { name: "no marker", text: delta("a") + finish + done, level: undefined },
    {
      name: "continued on a fallback",
      text: delta("a") + marked("b", "degraded") + finish + done,
      level: "degraded",
    },
    {
      name: "worst level wins",
      text: marked("a", "minimal") + marked("b", "degraded") + finish + done,
      level: "minimal",
    },
    { name: "full marker is no marker", text: marked("a", "full") + finish + done, level: undefined },
  ])("in-band service level: $name", ({ text, level }) => {
    const c = check(text, 5);
    expect([c.complete, c.serviceLevel]).toEqual([true, level]);
  });
});

describe("a stream continued on a fallback after its headers", () => {
  it("is degraded, not ok, when complete; still an error when incomplete", () => {
    const c = check(delta("a") + marked("b", "degraded") + finish + done);
    const facts = { status: 200, serviceLevel: undefined, expectStatus: null, streamComplete: c.complete };
    expect(classifyResponse({ ...facts, streamServiceLevel: c.serviceLevel })).toEqual("degraded");
    expect(classifyResponse({ ...facts, streamServiceLevel: undefined })).toEqual("ok");
    expect(classifyResponse({ ...facts, streamComplete: false, streamServiceLevel: "minimal" })).toEqual(
      "error",
    );
  });
});

describe("RequestLog", () => {
  it("grows across chunks and joins columns with NaN for times that never happened", () => {
    const log = new RequestLog();
    const n = 70_000; // crosses the 65,536-row chunk boundary
    for (let i = 0; i < n; i++) log.add(i * 0.5, i % 3);
    log.setSent(0, 0.25);
    log.setFirstByte(0, 1);
    log.finish(0, 2, OUTCOME_CODE.ok, 200, 123);
    log.finish(65_536, 40_000, OUTCOME_CODE.timeout, 0, 0);
    const c = log.columns();
    expect(c.length).toBe(n);
    expect([
      c.intended[0],
      c.sent[0],
      c.firstByte[0],
      c.end[0],
      c.outcome[0],
      c.status[0],
      c.bytes[0],
    ]).toEqual([0, 0.25, 1, 2, 0, 200, 123]);
    expect([c.intended[65_536], c.end[65_536], c.outcome[65_536], c.template[65_536]]).toEqual([
      32_768,
      40_000,
      4,
      65_536 % 3,
    ]);
    expect([c.sent[65_536], c.outcome[69_999]]).toEqual([Number.NaN, PENDING_OUTCOME]);
    expect(log.pending()).toBe(n - 2);
    expect(BYTES_PER_REQUEST).toBe(40);
    expect(() => log.setSent(n, 1)).toThrow(`row ${n} out of range 0..${n - 1}`);
  });
});

describe("LiveStats", () => {
  it("counts per completion second and summarises recent latency by nearest rank", () => {
    const s = new LiveStats();
    s.record(100, OUTCOME_CODE.ok, 10);
    s.record(900, OUTCOME_CODE.shed, 30);
    s.record(1500, OUTCOME_CODE.ok, 20);
    s.record(1600, OUTCOME_CODE.conn, 40);
    expect(s.totals).toEqual({ ok: 2, degraded: 0, shed: 1, error: 0, timeout: 0, conn: 1 });
    expect(s.lastSeconds(2500, 3)).toEqual([
      { second: 0, counts: { ok: 1, degraded: 0, shed: 1, error: 0, timeout: 0, conn: 0 } },
      { second: 1, counts: { ok: 1, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 1 } },
      { second: 2, counts: { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 } },
    ]);
    expect(s.recentLatency()).toEqual({ count: 4, p50: 20, p95: 40, p99: 40 });
  });

  it("forgets a second's slot when the ring wraps 60 s later", () => {
    const s = new LiveStats();
    s.record(500, OUTCOME_CODE.ok, 1);
    s.record(60_500, OUTCOME_CODE.error, 1);
    expect(s.lastSeconds(60_900, 1)).toEqual([
      { second: 60, counts: { ok: 0, degraded: 0, shed: 0, error: 1, timeout: 0, conn: 0 } },
    ]);
  });
});
