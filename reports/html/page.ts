import type { RunRecord } from "../../harness/record/schema.js";
import { escapeHtml as h } from "../escape.js";
import type { ChartSpec } from "./chart-base.js";
import { buildCharts } from "./charts.js";
import { environmentBlock, eventList, faultTable, scenarioBlock } from "./details.js";
import { REPORT_CSS } from "./style.js";
import { renderChartSvg } from "./svg.js";
import {
  downtimeLine,
  headlineStats,
  projectionBlock,
  retriesLine,
  sloTable,
  verdictHeader,
  verdictLabel,
} from "./verdict.js";

/**
 * The self-contained HTML SLA report. Opens offline: one file, inline CSS, charts as inline
 * SVG, no script at all, and a Content-Security-Policy that forbids fetching anything, so
 * even a rendering bug cannot make the page reach the network.
 */

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function chartFigure(spec: ChartSpec, faults: number): string {
  const key =
    faults === 0
      ? ""
      : `<p class="key"><span class="swatch fault"></span>fault window<span class="swatch detect"></span>detected<span class="swatch recover"></span>recovered</p>`;
  return `<figure class="chart" id="${spec.id}" data-series="${h(spec.series.join(","))}">
<figcaption>${h(spec.title)}</figcaption>
${renderChartSvg(spec)}
${key}</figure>`;
}

export function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export function renderHtml(record: RunRecord): string {
  const charts = buildCharts(record);
  const noMetrics =
    record.targetMetrics.length === 0
      ? `<p id="chart-target-missing" class="muted">No service metrics were scraped in this run, so breaker state and restarts are not shown.</p>`
      : "";
  const body = `${verdictHeader(record)}
<h2>Service level objectives</h2>
${sloTable(record.slos)}
${headlineStats(record)}
${retriesLine(record)}${downtimeLine(record)}
${projectionBlock(record)}
<h2>Over time</h2>
<section id="charts">
${charts.map((c) => chartFigure(c, record.faults.length)).join("\n")}
${noMetrics}
</section>
<h2>Faults</h2>
${faultTable(record)}
${eventList(record)}
${scenarioBlock(record)}
${environmentBlock(record)}
<footer>faultline ${h(record.environment.faultline)} &middot; run record schema v${record.schemaVersion}</footer>`;
  return shell(`${verdictLabel(record.verdict)} ${record.scenario.name}: faultline SLA report`, body);
}
