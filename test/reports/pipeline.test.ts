import { describe, expect, it } from "vitest";
import { buildRunRecord } from "../../harness/record/index.js";
import { analyzeRun } from "../../harness/sla/analyze.js";
import { columnsFromRows, type RequestRow } from "../../harness/sla/columns.js";
import { renderHtml, renderJunit, renderMarkdown } from "../../reports/index.js";
import { formatValue } from "../../reports/format.js";
import { ENVIRONMENT, EPOCH_MS } from "../fixtures/records/build.js";
import { byId, elements, findAll, parseMarkup, textOf } from "./markup.js";

/**
 * The real producer end to end: synthetic requests through the harness's SLA engine and
 * record builder, then every renderer. 10 req/s for 30 s; the worker is killed at t=10 s,
 * requests fail (conn) for 2 s, come back degraded for 2 s, then ok. Answered: 20 bad of 300
 * (280/300 = 93.333%), answering again after 2 s. Full service (the default level, as the
 * runner judges an availability SLO without one): the 20 degraded answers are down too,
 * 260/300 = 86.667%, full service after 4 s. P99 80 ms (the degraded answers).
 */
function rows(): RequestRow[] {
  return Array.from({ length: 300 }, (_, i): RequestRow => {
    const t = i * 100;
    if (t >= 10_000 && t < 12_000) return { intended: t, end: t + 5, outcome: "conn" };
    if (t >= 12_000 && t < 14_000) return { intended: t, end: t + 80, outcome: "degraded" };
    return { intended: t, end: t + 40, outcome: "ok" };
  });
}

const kill = { id: "kill-worker", kind: "process-kill", startMs: 10_000, endMs: null };
const sla = analyzeRun({
  columns: columnsFromRows(rows()),
  durationMs: 30_000,
  faults: [kill],
  slos: [
    { kind: "availability", min: 0.999 },
    { kind: "latency", percentile: 99, max: 500 },
    { kind: "time-to-recover", max: 5000, fault: "kill-worker" },
  ],
  // What harness/runner/analysis.ts passes for an availability SLO without a level (full).
  degradedCountsAsGood: false,
  seed: 1,
});
const record = buildRunRecord({
  scenario: { name: "pipeline", file: null, seed: 1, source: { name: "pipeline" } },
  status: "completed",
  startedAtMs: EPOCH_MS,
  endedAtMs: EPOCH_MS + 30_000,
  environment: ENVIRONMENT,
  target: { kind: "reference", url: "http://127.0.0.1:1", description: "synthetic" },
  load: {
    targetRate: 10,
    achievedRate: 10,
    deadlineMs: 2000,
    maxInFlight: 64,
    maxInFlightHits: 0,
    sendLagP99Ms: 0,
  },
  sla,
  faults: [
    {
      ...kill,
      target: "worker",
      description: "kill",
      params: {},
      injectedAtMs: 10_000,
      revertedAtMs: 10_000,
    },
  ],
});

describe("harness record -> reports", () => {
  const doc = parseMarkup(renderHtml(record), true);

  it("shows the engine's availability at both levels, 280/300 and 260/300 by hand", () => {
    expect(record.availability.value).toBe(260 / 300);
    expect(record.levels).toEqual({
      answered: { availability: 280 / 300, uptime: 28 / 30 },
      full: { availability: 260 / 300, uptime: 26 / 30 },
    });
    expect(record.faults.map((f) => [f.timeToAnswerAgainMs, f.timeToFullServiceMs])).toEqual([[2000, 4000]]);
    expect(textOf(byId(doc, "stat-availability"))).toBe("Availability answered 93.333% full service 86.667%");
    expect(byId(doc, "verdict").attrs["data-verdict"]).toBe("fail");
  });

  it("shows every SLO the engine evaluated, with its own numbers", () => {
    const shown = findAll(byId(doc, "slos"), (n) => n.attrs["data-slo-id"] !== undefined).map((r) => [
      r.attrs["data-slo-id"],
      r.attrs["data-passed"],
      r.attrs["data-measured"],
      textOf(elements(r)[2]),
    ]);
    expect(shown).toEqual(
      record.slos.map((s) => [
        s.id,
        String(s.passed),
        String(s.measured ?? ""),
        formatValue(s.measured, s.unit),
      ]),
    );
    // By hand: full answers again from t=14 s, so full service took 4 s (the SLOs' level).
    expect(shown.map((r) => r[3])).toEqual(["86.667%", "80 ms", "4.00 s"]);
    const fault = findAll(byId(doc, "faults"), (n) => n.attrs["data-fault-id"] === "kill-worker")[0];
    // Per fault, both: fallbacks answered 2 s after the kill, the model 4 s after.
    expect(textOf(findAll(fault, (n) => n.attrs.class === "num tta")[0])).toBe("2.00 s");
    expect(textOf(findAll(fault, (n) => n.attrs.class === "num ttf")[0])).toBe("4.00 s");
  });

  it("states the downtime the engine found: refused connections, then fallback answers", () => {
    // At full service the 2 s of degraded answers after the 2 s of refused connections are down.
    const d = byId(doc, "downtime");
    expect([d.attrs["data-total-ms"], d.attrs["data-intervals"]]).toEqual(["4000", "1"]);
    expect(textOf(d)).toBe("Downtime at request resolution: 4.00 s in 1 interval (t+10.00 s to t+14.00 s)");
  });

  it("draws one window per second and the fault on every chart", () => {
    expect(record.windows.length).toBe(30);
    for (const f of findAll(doc, (n) => n.name === "figure")) {
      expect(findAll(f, (n) => textOf(n) === "kill-worker (process-kill)" && n.name === "text").length).toBe(
        1,
      );
    }
  });

  it("agrees across JUnit and Markdown on what failed", () => {
    const failedIds = record.slos.filter((s) => !s.passed).map((s) => s.description);
    expect(failedIds).toEqual(["availability (full service) >= 99.9%"]);
    const junit = parseMarkup(renderJunit([record]));
    const failures = findAll(junit, (n) => n.name === "failure").map((n) => n.attrs.message?.split(":")[0]);
    expect(failures).toEqual(failedIds);
    const md = renderMarkdown([record])
      .split("\n")
      .filter((l) => l.startsWith("- "));
    expect(md.length).toBe(failedIds.length);
  });
});
