import * as echarts from "echarts";
import type { ChartSpec } from "./chart-base.js";

export const CHART_WIDTH = 1040;
export const CHART_HEIGHT = 300;

/**
 * Renders one chart to an SVG string with ECharts' server-side SVG renderer: no DOM, no
 * script in the page, and the SVG scales with the page and prints sharply. ECharts escapes
 * the text it writes (series names, mark labels), so record strings cannot inject markup.
 */
export function renderChartSvg(spec: ChartSpec, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption(spec.option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
