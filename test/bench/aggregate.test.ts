import { describe, expect, it } from "vitest";
import { fmt, markdownTable, median, ratioOf, summarize, type SummaryRow } from "../../bench/aggregate.js";
import { parseBenchArgs } from "../../bench/args.js";

/** `npm run bench`'s aggregation, on hand-made rows whose medians and ratios are worked out by hand. */
describe("median", () => {
  it("middle value, mean of the two middle ones, non-finite values left out", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 1, Number.POSITIVE_INFINITY])).toBe(3);
    expect(median([])).toBe(null);
    expect(median([Number.NaN])).toBe(null);
  });
});

describe("ratioOf", () => {
  it("the module's own ratio first, else value / baseline, else none", () => {
    expect(ratioOf({ name: "a", value: 10, unit: "ms", baseline: 4, ratio: 7 })).toBe(7);
    expect(ratioOf({ name: "a", value: 10, unit: "ms", baseline: 4 })).toBe(2.5);
    expect(ratioOf({ name: "a", value: 10, unit: "ms", baseline: 0 })).toBe(null);
    expect(ratioOf({ name: "a", value: 10, unit: "ms" })).toBe(null);
  });
});

describe("summarize", () => {
  it("groups by module and figure in first-seen order; the ratio is the median of per-run ratios", () => {
    const rows = summarize([
      {
        module: "proxy",
        rows: [
          { name: "p50", value: 10, unit: "us", baseline: 10 },
          { name: "mb/s", value: 900, unit: "MB/s" },
        ],
      },
      { module: "load", rows: [{ name: "p50", value: 1, unit: "ms" }] },
      {
        module: "proxy",
        rows: [
          { name: "mb/s", value: 800, unit: "MB/s" },
          { name: "p50", value: 12, unit: "us", baseline: 4 },
        ],
      },
      { module: "proxy", rows: [{ name: "p50", value: 30, unit: "us", baseline: 6 }] },
    ]);
    expect(rows).toEqual<SummaryRow[]>([
      // Per-run ratios 1, 3, 5 -> 3; the median value over the median baseline would be 12 / 6 = 2.
      {
        module: "proxy",
        name: "p50",
        unit: "us",
        median: 12,
        min: 10,
        max: 30,
        baseline: 6,
        ratio: 3,
        runs: 3,
      },
      {
        module: "proxy",
        name: "mb/s",
        unit: "MB/s",
        median: 850,
        min: 800,
        max: 900,
        baseline: null,
        ratio: null,
        runs: 2,
      },
      // Same figure name in another module is another row.
      {
        module: "load",
        name: "p50",
        unit: "ms",
        median: 1,
        min: 1,
        max: 1,
        baseline: null,
        ratio: null,
        runs: 1,
      },
    ]);
  });

  it("a run that produced NaN counts as a run but not in the median, min or max", () => {
    const [row] = summarize([
      { module: "m", rows: [{ name: "x", value: Number.NaN, unit: "ms" }] },
      { module: "m", rows: [{ name: "x", value: 4, unit: "ms", ratio: 2 }] },
      { module: "m", rows: [{ name: "x", value: 8, unit: "ms", ratio: 4 }] },
    ]);
    expect(row).toEqual({
      module: "m",
      name: "x",
      unit: "ms",
      median: 6,
      min: 4,
      max: 8,
      baseline: null,
      ratio: 3,
      runs: 3,
    });
  });

  it("every run NaN: NaN figures, shown as dashes", () => {
    const rows = summarize([{ module: "m", rows: [{ name: "x", value: Number.NaN, unit: "ms" }] }]);
    expect([rows[0]?.median, rows[0]?.min, rows[0]?.max]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(markdownTable(rows).split("\n")[2]).toBe("| x | – | ms | – | – | –\u2013– | 1 |");
  });
});

describe("table formatting", () => {
  it("digits by size: whole from 1000, one decimal from 10, three from 0.01, exponent below; bands by the rounded value", () => {
    expect([1234.56, 999.96, 999.94, 10, 9.9996, 9.9949, 0.01, 0, 0.00123, -25.25, null].map(fmt)).toEqual([
      "1235",
      "1000",
      "999.9",
      "10.0",
      "10.0",
      "9.995",
      "0.010",
      "0.000",
      "1.23e-3",
      "-25.3",
      "–",
    ]);
  });

  it("one row per figure under a fixed header; ratios marked ×", () => {
    const rows = summarize([
      {
        module: "load",
        rows: [
          { name: "load: max throughput", value: 25_637, unit: "req/s", baseline: 41_005 },
          { name: "load: send-lag P99", value: 7.275, unit: "ms" },
        ],
      },
    ]);
    expect(markdownTable(rows)).toBe(
      [
        "| figure | median | unit | baseline (same run) | ratio | min–max | runs |",
        "|---|---:|---|---:|---:|---|---:|",
        // 25637 / 41005 = 0.62521...
        "| load: max throughput | 25637 | req/s | 41005 | ×0.625 | 25637–25637 | 1 |",
        "| load: send-lag P99 | 7.275 | ms | – | – | 7.275–7.275 | 1 |",
      ].join("\n"),
    );
  });
});

describe("parseBenchArgs", () => {
  const modules = ["load", "proxy", "service"];
  it("3 runs by default, 1 with --quick, BENCH_REPEATS over both", () => {
    expect(parseBenchArgs([], {}, modules)).toEqual({ quick: false, only: null, repeats: 3 });
    expect(parseBenchArgs(["--quick"], {}, modules)).toEqual({ quick: true, only: null, repeats: 1 });
    expect(parseBenchArgs(["--quick"], { BENCH_REPEATS: "5" }, modules)).toEqual({
      quick: true,
      only: null,
      repeats: 5,
    });
    expect(parseBenchArgs(["--only", "load,service"], {}, modules).only).toEqual(["load", "service"]);
  });

  it("refuses what would measure nothing or the wrong thing, naming the choices", () => {
    expect(() => parseBenchArgs([], { BENCH_REPEATS: "0" }, modules)).toThrow(
      'BENCH_REPEATS must be an integer >= 1, got "0"',
    );
    expect(() => parseBenchArgs([], { BENCH_REPEATS: "2.5" }, modules)).toThrow(
      'BENCH_REPEATS must be an integer >= 1, got "2.5"',
    );
    expect(() => parseBenchArgs(["--only", "load,gpu"], {}, modules)).toThrow(
      "--only: unknown module gpu (one of load, proxy, service)",
    );
    expect(() => parseBenchArgs(["--only"], {}, modules)).toThrow(
      "--only needs a comma-separated list of modules (one of load, proxy, service)",
    );
  });
});
