import { describe, expect, it } from "vitest";
import {
  compareRuns,
  COMPARE_THRESHOLDS as T,
  renderCompareHtml,
  renderCompareMarkdown,
  type Delta,
} from "../../reports/index.js";
import { judge } from "../../reports/compare.js";
import type { RunRecord } from "../../harness/record/schema.js";
import { failKill } from "../fixtures/records/index.js";
import { byId, findAll, parseMarkup } from "./markup.js";

describe("judge: one threshold per metric", () => {
  const cases: [string, number | null, number | null, (typeof T)[keyof typeof T], string][] = [
    ["availability drop of exactly 0.05 pp is noise", 0.9995, 0.999, T.availability, "unchanged"],
    ["availability drop of 0.06 pp regresses", 0.9995, 0.9989, T.availability, "regression"],
    ["availability rise of 0.06 pp improves", 0.9989, 0.9995, T.availability, "improvement"],
    ["p99 +10% but only +4 ms is noise", 40, 44, T.latency, "unchanged"],
    ["p99 +8% and +40 ms is noise (relative floor)", 500, 540, T.latency, "unchanged"],
    ["p99 +20% and +100 ms regresses", 500, 600, T.latency, "regression"],
    ["p99 -20% and -100 ms improves", 500, 400, T.latency, "improvement"],
    ["latency without data on one side is not comparable", null, 400, T.latency, "not-comparable"],
    ["recovery +1 s (one window) is at the resolution", 4000, 5000, T.timeToRecover, "unchanged"],
    ["recovery +2 s and +50% regresses", 4000, 6000, T.timeToRecover, "regression"],
    ["recovery +1.5 s but +15% is noise", 10_000, 11_500, T.timeToRecover, "unchanged"],
    ["recovered before, not now, regresses", 4000, null, T.timeToRecover, "regression"],
    ["not recovered before, recovered now, improves", null, 4000, T.timeToRecover, "improvement"],
    ["detect +300 ms and +60% regresses", 500, 800, T.timeToDetect, "regression"],
    ["detect +200 ms is noise", 500, 700, T.timeToDetect, "unchanged"],
    ["never detected on either side is not comparable", null, null, T.timeToDetect, "not-comparable"],
  ];
  it.each(cases)("%s", (_name, base, next, threshold, expected) => {
    expect(judge(base, next, threshold)).toBe(expected);
  });
});

/** A baseline that did better than failKill on every headline number. */
const baseline: RunRecord = {
  ...failKill,
  id: "base-run",
  verdict: "pass",
  availability: { ...failKill.availability, value: 0.9995 },
  uptime: { ...failKill.uptime, value: 26 / 30 },
  levels: {
    answered: { availability: 0.9995, uptime: 26 / 30 },
    full: { availability: 0.99, uptime: 24 / 30 },
  },
  latency: { ...failKill.latency, intended: { count: 300, p50: 40, p95: 250, p99: 400, max: 420 } },
  faults: failKill.faults.map((f) =>
    f.id === "kill-worker"
      ? {
          ...f,
          timeToDetectMs: 300,
          timeToRecoverMs: 4000,
          timeToAnswerAgainMs: 4000,
          timeToFullServiceMs: 5000,
        }
      : f,
  ),
  slos: failKill.slos.map((s) => ({ ...s, passed: true })),
};

const row = (d: Delta): [string, string] => [d.id, d.status];

describe("compareRuns: availability counted differently", () => {
  it("does not judge availability when one run counted final attempts and the other every attempt", () => {
    const final: RunRecord = {
      ...failKill,
      availability: { ...failKill.availability, value: 1, attempts: "final" },
    };
    const d = compareRuns(failKill, final).deltas.find((x) => x.id === "availability");
    expect(d).toEqual({
      id: "availability",
      label: "Availability (baseline counts every attempt, new run each request by its final attempt)",
      unit: "ratio",
      base: failKill.availability.value,
      next: 1,
      change: 1 - (failKill.availability.value ?? 0),
      status: "not-comparable",
    });
    const same = compareRuns(final, final).deltas.find((x) => x.id === "availability");
    expect([same?.label, same?.status]).toEqual(["Availability", "unchanged"]);
  });
});

describe("compareRuns", () => {
  const c = compareRuns(baseline, failKill);

  it("flags each change against its threshold", () => {
    expect(c.deltas.map(row)).toEqual([
      ["verdict", "regression"],
      ["availability", "regression"], // 99.95% -> 96.667%
      ["uptime", "unchanged"],
      // Both levels side by side (#15).
      ["availability.answered", "regression"], // 99.95% -> 96.667%
      ["availability.full", "regression"], // 99% -> 90.667%
      ["uptime.answered", "unchanged"],
      ["uptime.full", "unchanged"],
      ["latency.p50", "unchanged"],
      ["latency.p95", "regression"], // 250 -> 300 ms: +20%, +50 ms
      ["latency.p99", "regression"], // 400 -> 480 ms
      ["fault.kill-worker.timeToDetect", "unchanged"], // 300 -> 400 ms: +100 ms
      ["fault.kill-worker.timeToRecover", "regression"], // 4 s -> 6 s
      ["fault.kill-worker.timeToAnswerAgain", "regression"], // 4 s -> 6 s
      ["fault.kill-worker.timeToFullService", "regression"], // 5 s -> 8 s
      ["fault.slow-api.timeToDetect", "not-comparable"],
      ["fault.slow-api.timeToRecover", "unchanged"],
      ["fault.slow-api.timeToAnswerAgain", "unchanged"],
      ["fault.slow-api.timeToFullService", "unchanged"],
      ["slo.availability", "regression"],
      ["slo.latency-p99", "unchanged"],
      ["slo.recover-kill-worker", "regression"],
      ["slo.uptime", "unchanged"],
    ]);
    expect([c.regressions, c.improvements]).toEqual([11, 0]);
  });

  it("is symmetric: swapping the runs turns regressions into improvements", () => {
    const back = compareRuns(failKill, baseline);
    expect([back.regressions, back.improvements]).toEqual([0, 11]);
  });

  it("renders a Markdown table with values, change and status", () => {
    const lines = renderCompareMarkdown(c).split("\n");
    expect(lines[0]).toBe("### faultline compare: 11 regressions, 0 improvements");
    expect(lines).toContain(
      "| kill-worker (process-kill): time to recover | 4.00 s | 6.00 s | +2.00 s | \u25b2 regression |",
    );
    expect(lines).toContain("| Availability | 99.950% | 96.667% | -3.283 pp | \u25b2 regression |");
    expect(lines).toContain(
      "| Availability (full service) | 99.000% | 90.667% | -8.333 pp | \u25b2 regression |",
    );
    expect(lines).toContain(
      "| kill-worker (process-kill): time to full service | 5.00 s | 8.00 s | +3.00 s | \u25b2 regression |",
    );
    expect(lines).toContain("| Verdict | pass | fail |  | \u25b2 regression |");
  });

  it("renders an HTML page with one row per delta and its status", () => {
    const doc = parseMarkup(renderCompareHtml(c), true);
    expect(byId(doc, "verdict").attrs["data-regressions"]).toBe("11");
    const rows = findAll(byId(doc, "compare"), (n) => n.attrs["data-metric-id"] !== undefined);
    expect(rows.map((r) => [r.attrs["data-metric-id"], r.attrs["data-status"]])).toEqual(c.deltas.map(row));
  });
});
