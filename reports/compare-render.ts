import { escapeHtml as h, escapeMarkdown as md } from "./escape.js";
import { deltaText, type Comparison, type Delta, type DeltaStatus } from "./compare.js";
import { shell } from "./html/page.js";

/** The comparison in Markdown (PR comment) and as a self-contained HTML page. */

export function statusLabel(status: DeltaStatus): string {
  switch (status) {
    case "regression":
      return "\u25b2 regression";
    case "improvement":
      return "\u2713 improvement";
    case "unchanged":
      return "= unchanged";
    case "not-comparable":
      return "\u2013 n/a";
    default: {
      const never: never = status;
      return never;
    }
  }
}

const THRESHOLD_NOTE =
  "Regression thresholds: availability more than -0.05 pp, uptime more than -0.5 pp, latency +10% and more than +5 ms, time to recover +20% and more than +1 s (or no longer recovering), time to detect +20% and more than +250 ms (or no longer detected), any SLO met before and missed now.";

function title(c: Comparison): string {
  const n = c.regressions;
  return `faultline compare: ${n} ${n === 1 ? "regression" : "regressions"}, ${c.improvements} ${c.improvements === 1 ? "improvement" : "improvements"}`;
}

export function renderCompareMarkdown(c: Comparison): string {
  const rows = c.deltas.map((d) => {
    const t = deltaText(d);
    return `| ${md(d.label)} | ${md(t.base)} | ${md(t.next)} | ${md(t.change)} | ${statusLabel(d.status)} |`;
  });
  return `### ${title(c)}

Baseline \`${c.base.id.replace(/[`|]/g, "_")}\` (${md(c.base.scenario)}) \u2192 new \`${c.next.id.replace(/[`|]/g, "_")}\` (${md(c.next.scenario)})

| Metric | Baseline | New | Change | Status |
| --- | ---: | ---: | ---: | --- |
${rows.join("\n")}

${THRESHOLD_NOTE}
`;
}

function htmlRow(d: Delta): string {
  const t = deltaText(d);
  return `<tr data-metric-id="${h(d.id)}" data-status="${d.status}"><td>${h(d.label)}</td><td class="num">${h(t.base)}</td><td class="num">${h(t.next)}</td><td class="num">${h(t.change)}</td><td><span class="badge ${d.status === "regression" ? "fail" : d.status === "improvement" ? "pass" : ""}">${statusLabel(d.status)}</span></td></tr>`;
}

export function renderCompareHtml(c: Comparison): string {
  const verdict = c.regressions > 0 ? "fail" : "pass";
  const body = `<header id="verdict" class="verdict ${verdict}" data-regressions="${c.regressions}" data-improvements="${c.improvements}">
<div class="verdict-badge">${c.regressions > 0 ? `${c.regressions} \u2717` : "OK \u2713"}</div>
<div><h1>${h(title(c))}</h1>
<p class="meta">baseline <code>${h(c.base.id)}</code> (${h(c.base.scenario)}, ${h(c.base.verdict)}) &rarr; new <code>${h(c.next.id)}</code> (${h(c.next.scenario)}, ${h(c.next.verdict)})</p></div>
</header>
<table id="compare"><thead><tr><th>Metric</th><th class="num">Baseline</th><th class="num">New</th><th class="num">Change</th><th>Status</th></tr></thead>
<tbody>
${c.deltas.map(htmlRow).join("\n")}
</tbody></table>
<p class="muted">${h(THRESHOLD_NOTE)}</p>`;
  return shell(title(c), body);
}
