import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import { parseK6Points, parseK6Time } from "../../../harness/k6/points.js";
import { k6Columns, k6RequestRows, outcomeFromK6, parseK6Summary } from "../../../harness/k6/summary.js";
import { OUTCOME_CODE } from "../../../common/outcome.js";
import type { RequestRow } from "../../../harness/sla/columns.js";

const fixture = (name: string): Promise<string> =>
  readFile(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

/**
 * Epoch ms as doubles resolve about 0.24 µs at today's dates, so times relative to the start
 * are compared to the microsecond (the fixtures are written in whole microseconds).
 */
const micro = (rows: readonly RequestRow[]): RequestRow[] =>
  rows.map((r) => ({
    ...r,
    intended: Math.round(r.intended * 1000) / 1000,
    sent: Math.round((r.sent ?? NaN) * 1000) / 1000,
    end: Math.round(r.end * 1000) / 1000,
  }));

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return new Error("did not throw");
}

const START = Date.parse("2024-11-23T18:04:56Z");

describe("k6 --out json points", () => {
  it("parses RFC 3339 times with nanoseconds and offsets", () => {
    expect(parseK6Time("2024-11-23T18:04:56.25Z")).toBe(START + 250);
    expect(parseK6Time("2024-11-23T19:04:56.000000000+01:00")).toBe(START);
    expect(parseK6Time("2024-11-23T18:04:56+00:00")).toBe(START);
    expect(parseK6Time("yesterday")).toBe(null);
  });

  it("reads Metric declarations and every Point", async () => {
    const p = parseK6Points(await fixture("points-faultline.ndjson"));
    expect(p.metrics.http_req_duration).toEqual({
      type: "trend",
      contains: "time",
      thresholds: ["p(99)<=1000"],
    });
    expect(Object.keys(p.metrics).sort()).toEqual([
      "dropped_iterations",
      "faultline_full",
      "faultline_request",
      "http_req_duration",
      "http_req_failed",
      "http_reqs",
      "iterations",
      "vus",
    ]);
    expect(p.points.length).toBe(1 + 4 * 6 + 1);
    expect(p.points[0]).toEqual({ metric: "vus", timeMs: START, value: 1, tags: {}, metadata: {} });
  });

  it("rows from an exported script's faultline_request points, in iteration order", async () => {
    const r = k6RequestRows(parseK6Points(await fixture("points-faultline.ndjson")));
    expect(r.source).toBe("faultline_request");
    expect(r.startEpochMs).toBe(START);
    expect(r.droppedIterations).toBe(2);
    expect(micro(r.rows)).toEqual([
      { intended: 2.1, sent: 2.1, end: 43.6, outcome: "ok", status: 200, template: 0 },
      { intended: 50.4, sent: 50.4, end: 170.65, outcome: "degraded", status: 200, template: 1 },
      { intended: 100.3, sent: 100.3, end: 103.5, outcome: "shed", status: 503, template: 0 },
      { intended: 150.2, sent: 150.2, end: 5150.3, outcome: "timeout", status: 0, template: 0 },
    ]);
  });

  it("rows become run-record columns (outcome codes, statuses, templates)", async () => {
    const c = k6Columns(k6RequestRows(parseK6Points(await fixture("points-faultline.ndjson"))));
    expect(c.length).toBe(4);
    expect([...c.outcome]).toEqual([
      OUTCOME_CODE.ok,
      OUTCOME_CODE.degraded,
      OUTCOME_CODE.shed,
      OUTCOME_CODE.timeout,
    ]);
    expect([...c.status]).toEqual([200, 200, 503, 0]);
    expect([...c.template]).toEqual([0, 1, 0, 0]);
  });

  it("intended send times come from the plan by iteration number", async () => {
    const r = k6RequestRows(parseK6Points(await fixture("points-faultline.ndjson")), {
      intended: [0, 50, 100, 150],
    });
    expect(micro(r.rows).map((x) => [x.intended, x.sent])).toEqual([
      [0, 2.1],
      [50, 50.4],
      [100, 100.3],
      [150, 150.2],
    ]);
  });

  it("a plain k6 script: rows from http_req_duration, classified by status and error_code", async () => {
    const r = k6RequestRows(parseK6Points(await fixture("points-plain.ndjson")));
    expect(r.source).toBe("http_req_duration");
    expect(r.startEpochMs).toBe(START + 10);
    expect(r.droppedIterations).toBe(0);
    expect(micro(r.rows)).toEqual([
      { intended: 0, sent: 0, end: 140, outcome: "error", status: 500, template: 0 },
      { intended: 190, sent: 190, end: 240, outcome: "ok", status: 200, template: 0 },
      { intended: 960, sent: 960, end: 990, outcome: "conn", status: 0, template: 0 },
    ]);
  });

  it("k6 status and error codes to outcomes", () => {
    expect(
      [
        [200, 0],
        [204, 0],
        [429, 0],
        [503, 0],
        [500, 0],
        [404, 0],
        [0, 1050],
        [0, 1211],
        [0, 1101],
        [0, 1000],
        [0, 1300],
      ].map(([s, e]) => outcomeFromK6(s, e)),
    ).toEqual(["ok", "ok", "shed", "shed", "error", "error", "timeout", "conn", "conn", "error", "error"]);
  });

  it("reports every bad line at once with its line number", () => {
    const text = [
      '{"type":"Point","metric":"x","data":{"time":"yesterday","value":1}}',
      "",
      "not json",
      '{"type":"Metric","metric":"y","data":{"type":"histogram"}}',
      '{"type":"Future","metric":"z","data":{}}',
    ].join("\n");
    const err = caught(() => parseK6Points(text, "out.json"));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).issues).toEqual([
      { file: "out.json:1", path: "", message: 'point of x: "time" is not an RFC 3339 time' },
      { file: "out.json:3", path: "", message: "not JSON" },
      { file: "out.json:4", path: "", message: 'metric y: unknown type "histogram"' },
    ]);
  });
});

describe("handleSummary file", () => {
  it("thresholds, counts and percentiles", async () => {
    expect(parseK6Summary(await fixture("summary.json"))).toEqual({
      scenario: "baseline",
      seed: 1,
      templates: ["chat", "chat-stream"],
      thresholds: [
        { metric: "http_req_duration", expression: "p(99)<=1000", ok: true },
        { metric: "faultline_full", expression: "rate>=0.999", ok: false },
      ],
      requests: 240,
      failedRate: 0.0125,
      latencyMs: { p50: 40.5, p95: 120.7, p99: 980.4 },
      droppedIterations: 2,
    });
  });

  it("refuses a file that is not a faultline summary, naming the field", () => {
    expect(() => parseK6Summary('{"metrics":{}}', "s.json")).toThrow(InvalidInputError);
    expect(() => parseK6Summary("{", "s.json")).toThrow(/^s\.json: \(root\): not JSON/);
    const err = caught(() => parseK6Summary('{"format":"faultline-k6-summary","version":2}', "s.json"));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).issues.map((i) => i.path)).toEqual([
      "version",
      "scenario",
      "seed",
      "templates",
      "data",
    ]);
  });
});
