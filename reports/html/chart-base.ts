import type { EChartsOption, LineSeriesOption } from "echarts";
import type { RunRecord, WindowStats } from "../../harness/record/schema.js";
import type { Outcome } from "../../common/outcome.js";

/**
 * ECharts options for the report's charts, built from the record alone (pure: rendering to
 * SVG is svg.ts). Every chart shares one x axis: seconds since the run started.
 */
export interface ChartSpec {
  /** Element id of the chart's figure in the page. */
  readonly id: string;
  readonly title: string;
  /** Series names in legend order (also written to the page for tests and readers). */
  readonly series: readonly string[];
  readonly option: EChartsOption;
}

export const OUTCOME_COLOURS: { readonly [K in Outcome]: string } = {
  ok: "#2ca02c",
  degraded: "#e6a700",
  shed: "#9467bd",
  error: "#d62728",
  timeout: "#8c564b",
  conn: "#404040",
};

export type Point = [number, number | null];

export function base(record: RunRecord, yName: string): EChartsOption {
  return {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: "system-ui, sans-serif" },
    grid: { left: 64, right: 64, top: 48, bottom: 50 },
    legend: { top: 4, left: "center", itemGap: 24, icon: "roundRect" },
    xAxis: {
      type: "value",
      name: "seconds since start",
      nameLocation: "middle",
      nameGap: 26,
      min: 0,
      max: Math.max(record.durationMs / 1000, 1),
      splitLine: { show: false },
    },
    yAxis: { type: "value", name: yName },
  };
}

export function line(name: string, data: Point[], extra: LineSeriesOption = {}): LineSeriesOption {
  return {
    type: "line",
    name,
    data,
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: 1.5 },
    ...extra,
  };
}

export const xOf = (w: WindowStats): number => w.startMs / 1000;

/**
 * Per-window values as a step series: each window's value holds from its start to the next
 * window's start (ECharts `step: "end"`), and the last one is closed at the window's end so
 * every window, the last included, covers its own span of the axis.
 */
export function windowSteps(
  windows: readonly WindowStats[],
  windowMs: number,
  value: (w: WindowStats) => number | null,
): Point[] {
  const points = windows.map((w): Point => [xOf(w), value(w)]);
  const last = windows.at(-1);
  if (last) points.push([(last.startMs + windowMs) / 1000, value(last)]);
  return points;
}

/** Per-window percentiles are plotted at the window's middle: they describe the whole window. */
export function windowMidpoints(
  windows: readonly WindowStats[],
  windowMs: number,
  value: (w: WindowStats) => number | null,
): Point[] {
  return windows.map((w): Point => [(w.startMs + windowMs / 2) / 1000, value(w)]);
}

/**
 * An invisible series that only carries the fault shading and marks, drawn above the data
 * (z) so stacked areas cannot cover the fault windows or their labels.
 */
export function marksSeries(marks: Pick<LineSeriesOption, "markArea" | "markLine">): LineSeriesOption {
  return { type: "line", data: [], z: 5, silent: true, ...marks };
}
