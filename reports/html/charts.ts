import type { RunRecord } from "../../harness/record/schema.js";
import { OUTCOMES } from "../../common/outcome.js";
import { formatRatio } from "../format.js";
import {
  base,
  line,
  marksSeries,
  OUTCOME_COLOURS,
  windowMidpoints,
  windowSteps,
  type ChartSpec,
} from "./chart-base.js";
import { faultMarks, faultSpans, type FaultSpan } from "./marks.js";
import { targetChart } from "./target-chart.js";

/** The time-series charts of the report, built from the record alone (pure; svg.ts renders). */

export function rateChart(record: RunRecord, spans: readonly FaultSpan[]): ChartSpec {
  const windowMs = record.uptime.windowMs;
  const perS = 1000 / windowMs;
  const series = OUTCOMES.map((o) =>
    line(
      o,
      windowSteps(record.windows, windowMs, (w) => w.counts[o] * perS),
      {
        stack: "rate",
        step: "end",
        areaStyle: { opacity: 0.6 },
        color: OUTCOME_COLOURS[o],
        lineStyle: { width: 0 },
      },
    ),
  );
  series.push(marksSeries(faultMarks(spans)));
  return {
    id: "chart-rate",
    title: "Request rate by outcome (req/s, stacked)",
    series: [...OUTCOMES],
    option: { ...base(record, "req/s"), series },
  };
}

export function latencyChart(record: RunRecord, spans: readonly FaultSpan[]): ChartSpec {
  const keys = ["p50", "p95", "p99"] as const;
  const colours = { p50: "#1f77b4", p95: "#ff7f0e", p99: "#d62728" };
  const series = keys.map((k) =>
    line(
      k,
      windowMidpoints(record.windows, record.uptime.windowMs, (w) => w.latency[k]),
      { color: colours[k] },
    ),
  );
  series.push(marksSeries(faultMarks(spans)));
  return {
    id: "chart-latency",
    title: "Latency from intended send time (ms)",
    series: [...keys],
    option: { ...base(record, "ms"), series },
  };
}

export function availabilityChart(record: RunRecord, spans: readonly FaultSpan[]): ChartSpec {
  const slo = record.errorBudget.slo;
  const sloLine = {
    name: `SLO ${formatRatio(slo)}`,
    yAxis: slo,
    lineStyle: { color: "#555", type: "dotted" as const },
  };
  const lows = record.windows.map((w) => w.goodRatio).filter((r): r is number => r !== null);
  // Zoom the y axis to the data, but never hide the SLO line or the worst window.
  const min = Math.max(0, Math.floor(Math.min(slo, ...lows) * 20) / 20);
  const series = [
    line(
      "good ratio",
      windowSteps(record.windows, record.uptime.windowMs, (w) => w.goodRatio),
      { color: "#2ca02c", step: "end" },
    ),
    marksSeries(faultMarks(spans, [sloLine])),
  ];
  const option = base(record, "good / all");
  return {
    id: "chart-availability",
    title: "Availability per window (good / all)",
    series: ["good ratio"],
    option: { ...option, yAxis: { type: "value", name: "good / all", min, max: 1 }, series },
  };
}

/** Every chart the report shows, in page order; the target chart only when metrics were scraped. */
export function buildCharts(record: RunRecord): ChartSpec[] {
  const spans = faultSpans(record);
  const charts = [rateChart(record, spans), latencyChart(record, spans), availabilityChart(record, spans)];
  const target = targetChart(record, spans);
  if (target) charts.push(target);
  return charts;
}
