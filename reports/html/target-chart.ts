import type { LineSeriesOption } from "echarts";
import type { RunRecord } from "../../harness/record/schema.js";
import { BREAKER_STATE_METRIC, BREAKER_STATE_VALUE } from "../../harness/targets/protocol.js";
import { REFERENCE_METRICS } from "../../harness/targets/reference/metrics.js";
import { base, line, marksSeries, type ChartSpec, type Point } from "./chart-base.js";
import { faultMarks, type FaultSpan } from "./marks.js";

/**
 * The service's own view from its scraped /metrics: circuit breaker state per backend (a
 * gauge: 0 closed, 1 open, 2 half-open) and worker restarts (counters summed over causes).
 * Series keys are as in the exposition, e.g. `faultline_breaker_state{backend="worker"}`.
 */

const BREAKER_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(BREAKER_STATE_VALUE).map(([name, value]) => [value, name.replace("_", "-")]),
);

const metricName = (key: string): string => key.split("{")[0] ?? key;
/** `name{a="x",b="y"}` -> `x, y`: short legend names (SSR text measuring is approximate). */
const labelValues = (key: string): string =>
  [...(/\{(.*)\}/.exec(key)?.[1] ?? "").matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join(", ");

function breakerKeys(record: RunRecord): string[] {
  const keys = new Set<string>();
  for (const s of record.targetMetrics) {
    for (const k of Object.keys(s.values)) if (metricName(k) === BREAKER_STATE_METRIC) keys.add(k);
  }
  return [...keys].sort();
}

function restartsAt(values: Readonly<Record<string, number>>): number | null {
  let sum: number | null = null;
  for (const [k, v] of Object.entries(values)) {
    if (metricName(k) === REFERENCE_METRICS.workerRestarts) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** Null when the run scraped no metrics (a target without /metrics, or scraping off). */
export function targetChart(record: RunRecord, spans: readonly FaultSpan[]): ChartSpec | null {
  if (record.targetMetrics.length === 0) return null;
  const xs = record.targetMetrics.map((s) => s.tMs / 1000);
  const series: LineSeriesOption[] = breakerKeys(record).map((k) => {
    const labels = labelValues(k);
    return line(
      labels ? `breaker (${labels})` : "breaker",
      record.targetMetrics.map((s, j): Point => [xs[j] ?? 0, s.values[k] ?? null]),
      { step: "end", yAxisIndex: 0, lineStyle: { width: 2 } },
    );
  });
  series.push(
    line(
      "worker restarts",
      record.targetMetrics.map((s, j): Point => [xs[j] ?? 0, restartsAt(s.values)]),
      { step: "end", yAxisIndex: 1, color: "#7f7f7f", lineStyle: { width: 2, type: "dashed" } },
    ),
  );
  const names = series.map((s) => String(s.name));
  series.push(marksSeries(faultMarks(spans)));
  return {
    id: "chart-target",
    title: "Service view: breaker state and worker restarts (scraped /metrics)",
    series: names,
    option: {
      ...base(record, "breaker"),
      yAxis: [
        {
          type: "value",
          name: "breaker",
          min: 0,
          max: 2,
          interval: 1,
          axisLabel: { formatter: (v: number) => BREAKER_NAMES[v] ?? String(v) },
        },
        { type: "value", name: "restarts", minInterval: 1, position: "right", splitLine: { show: false } },
      ],
      series,
    },
  };
}
