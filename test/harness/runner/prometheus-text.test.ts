import { describe, expect, it } from "vitest";
import { ExpositionParseError, parseExposition, toSeries } from "../../../harness/runner/prometheus-text.js";

describe("Prometheus text exposition parser", () => {
  it("keeps labels (in exposition order), skips HELP/TYPE/comments, ignores timestamps", () => {
    const text = [
      "# HELP faultline_breaker_state Breaker state",
      "# TYPE faultline_breaker_state gauge",
      'faultline_breaker_state{backend="worker"} 1',
      'faultline_fallback_total{from="worker",to="cpu-model",reason="circuit_open"} 18 1700000000000',
      "faultline_worker_up 1",
      "vllm:num_requests_running 3",
      "",
    ].join("\n");
    expect(parseExposition(text)).toEqual([
      {
        name: "faultline_breaker_state",
        labels: { backend: "worker" },
        value: 1,
        key: 'faultline_breaker_state{backend="worker"}',
      },
      {
        name: "faultline_fallback_total",
        labels: { from: "worker", to: "cpu-model", reason: "circuit_open" },
        value: 18,
        key: 'faultline_fallback_total{from="worker",to="cpu-model",reason="circuit_open"}',
      },
      { name: "faultline_worker_up", labels: {}, value: 1, key: "faultline_worker_up" },
      { name: "vllm:num_requests_running", labels: {}, value: 3, key: "vllm:num_requests_running" },
    ]);
  });

  it("unescapes label values and re-escapes them in the key", () => {
    const [s] = parseExposition('m{path="a\\"b\\\\c\\nd",x="y"} 2.5e3');
    expect(s).toEqual({
      name: "m",
      labels: { path: 'a"b\\c\nd', x: "y" },
      value: 2500,
      key: 'm{path="a\\"b\\\\c\\nd",x="y"}',
    });
  });

  it("reads +Inf, -Inf and NaN, and toSeries drops them (JSON cannot carry them)", () => {
    const samples = parseExposition('h_bucket{le="+Inf"} +Inf\nn NaN\nm -Inf\nok 4\n');
    expect(samples.map((s) => s.value)).toEqual([Infinity, NaN, -Infinity, 4]);
    // prom-client's spelling (a claims run on the real engine failed its metric checks on it).
    expect(parseExposition("lag Nan\ni inf\n").map((s) => s.value)).toEqual([NaN, Infinity]);
    expect(toSeries(samples)).toEqual({ ok: 4 });
  });

  it("tolerates a trailing comma and spaces inside braces", () => {
    expect(parseExposition('m{ a="1", b="2", } 7')[0]?.key).toBe('m{a="1",b="2"}');
  });

  it.each([
    ["no value", "metric_name", 'line 1: expected a sample value, found ""'],
    ["bad value", 'm{a="1"} twelve', 'line 1: expected a sample value, found "twelve"'],
    ["unterminated label", 'm{a="1} 3', "line 1: unterminated label value"],
    ["label without quotes", "m{a=1} 3", 'line 1: expected ="..." after label a'],
    ["no name", '{a="1"} 3', "line 1: expected a metric name"],
  ])("rejects %s with the line number", (_name, text, message) => {
    expect(() => parseExposition(text)).toThrow(
      new ExpositionParseError(1, message.replace(/^line 1: /, "")),
    );
    expect(() => parseExposition(`# ok\n${text}`)).toThrow(/^line 2: /);
  });
});
