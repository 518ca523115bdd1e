import type { RunRecord, SloResult } from "../../harness/record/schema.js";
import { escapeHtml as h } from "../escape.js";
import {
  formatCount,
  formatMargin,
  formatMs,
  formatOffset,
  formatRatio,
  formatTimestamp,
  formatValue,
} from "../format.js";
import { recordLevels } from "../../harness/record/levels.js";
import { availabilityBasisText, everyAttemptAvailability, failedRetries, retriesText } from "../retries.js";

/**
 * The top of the report: the verdict, each SLO with measured value, bound and margin, the
 * headline numbers and the monthly projection. Pass and fail are written as words with a
 * symbol as well as coloured, so they survive greyscale printing and colour blindness.
 * Elements carry data-* attributes holding the raw numbers, for tests and scrapers.
 */

type Verdict = RunRecord["verdict"];

export function verdictLabel(verdict: Verdict): string {
  switch (verdict) {
    case "pass":
      return "PASS \u2713";
    case "fail":
      return "FAIL \u2717";
    case "aborted":
      return "ABORTED !";
    case "void":
      return "VOID \u2013";
    default: {
      const never: never = verdict;
      return never;
    }
  }
}

const num = (v: number | null): string => (v === null ? "" : String(v));

function sloRow(slo: SloResult): string {
  const result = slo.passed ? "pass" : "fail";
  return `<tr data-slo-id="${h(slo.id)}" data-passed="${String(slo.passed)}" data-measured="${num(slo.measured)}" data-bound="${slo.bound}" data-margin="${num(slo.margin)}" data-unit="${slo.unit}">
<td>${h(slo.description)}${slo.faultId === undefined ? "" : ` <span class="muted">fault ${h(slo.faultId)}</span>`}</td>
<td class="result"><span class="badge ${result}">${verdictLabel(result)}</span></td>
<td class="num measured">${h(formatValue(slo.measured, slo.unit))}</td>
<td class="num bound">${h(slo.comparator)} ${h(formatValue(slo.bound, slo.unit))}</td>
<td class="num margin">${h(formatMargin(slo.margin, slo.unit))}</td>
</tr>`;
}

export function sloTable(slos: readonly SloResult[]): string {
  if (slos.length === 0) return `<p id="slos" class="muted">No SLOs were evaluated.</p>`;
  const missed = slos.filter((s) => !s.passed).length;
  return `<table id="slos" data-total="${slos.length}" data-missed="${missed}">
<caption>SLOs: ${slos.length - missed} of ${slos.length} met</caption>
<thead><tr><th>SLO</th><th>Result</th><th class="num">Measured</th><th class="num">Bound</th><th class="num">Margin</th></tr></thead>
<tbody>
${slos.map(sloRow).join("\n")}
</tbody></table>`;
}

export function verdictHeader(record: RunRecord): string {
  const reason = record.statusReason === undefined ? "" : `<p class="reason">${h(record.statusReason)}</p>`;
  return `<header id="verdict" class="verdict ${record.verdict}" data-verdict="${record.verdict}" data-status="${record.status}">
<div class="verdict-badge">${verdictLabel(record.verdict)}</div>
<div><h1>${h(record.scenario.name)}</h1>
<p class="meta">run <code>${h(record.id)}</code> &middot; started ${h(formatTimestamp(record.startedAtMs))} &middot; ${h(formatMs(record.durationMs))} &middot; status ${h(record.status)} &middot; seed ${record.scenario.seed}</p>
${reason}</div>
</header>`;
}

function stat(id: string, label: string, text: string, raw: number | null): string {
  return `<div class="stat" id="stat-${id}" data-value="${num(raw)}"><div class="label">${label}</div><div class="value">${h(text)}</div></div>`;
}

/**
 * A headline figure at both service levels side by side (DESIGN.md "Two levels of truth"):
 * answered (any good answer, fallbacks included) and full service (the primary model's
 * answers only). A level an older record does not carry reads n/a, never a copy of the other.
 */
function levelsStat(
  id: string,
  label: string,
  pair: { answered: number | null; full: number | null },
  extra = "",
  note = "",
): string {
  const value = (level: "answered" | "full", name: string, v: number | null): string =>
    `<span class="level ${level}" data-level="${level}" data-value="${num(v)}"><span class="muted">${name}</span> ${h(formatRatio(v))}</span>`;
  return `<div class="stat" id="stat-${id}" data-answered="${num(pair.answered)}" data-full="${num(pair.full)}"${extra}><div class="label">${label}</div><div class="value">${value("answered", "answered", pair.answered)} ${value("full", "full service", pair.full)}</div>${note}</div>`;
}

/** Availability at both levels; when it counts each request by its final attempt, says so with the every-attempt figure beside it. */
function availabilityStat(record: RunRecord): string {
  const l = recordLevels(record);
  const pair = { answered: l.answered.availability, full: l.full.availability };
  const basis = availabilityBasisText(record);
  // data-value: the figure at the level the run's first availability SLO judged.
  const headline = ` data-value="${num(record.availability.value)}"`;
  if (basis === null) return levelsStat("availability", "Availability", pair, headline);
  return levelsStat(
    "availability",
    "Availability",
    pair,
    `${headline} data-attempts="final" data-every-attempt="${num(everyAttemptAvailability(record))}"`,
    `<div class="label note">${h(basis)}</div>`,
  );
}

export function headlineStats(record: RunRecord): string {
  const all = Object.values(record.totals).reduce((a, b) => a + b, 0);
  const lat = record.latency.intended;
  const budget = record.errorBudget;
  return `<section id="summary" class="stats">
${availabilityStat(record)}
${levelsStat("uptime", `Uptime (${formatMs(record.uptime.windowMs)} windows)`, { answered: recordLevels(record).answered.uptime, full: recordLevels(record).full.uptime })}
${stat("p50", "P50", formatMs(lat.p50), lat.p50)}
${stat("p95", "P95", formatMs(lat.p95), lat.p95)}
${stat("p99", "P99", formatMs(lat.p99), lat.p99)}
${stat("requests", "Requests", formatCount(all), all)}
${stat("rate", "Achieved rate", `${record.load.achievedRate.toFixed(1)} / ${record.load.targetRate.toFixed(1)} req/s`, record.load.achievedRate)}
${stat("burn", `Error budget burn (${formatCount(budget.badRequests)} bad)`, budget.burn === null ? "n/a" : `${(budget.burn * 100).toFixed(1)}%`, budget.burn)}
</section>`;
}

export function projectionBlock(record: RunRecord): string {
  const p = record.projection;
  if (p === null) {
    return `<p id="projection" class="muted" data-present="false">No monthly projection: the run injected no faults to extrapolate from.</p>`;
  }
  return `<p id="projection" data-present="true" data-mean="${p.meanAvailability}" data-p5="${p.p5Availability}" data-probability="${p.probabilityMeetingSlo}">
Projected monthly availability <strong>${formatRatio(p.meanAvailability)}</strong> (5th percentile ${formatRatio(p.p5Availability)});
probability of meeting the ${formatRatio(p.sloTarget)} SLO in a month: <strong class="probability">${(p.probabilityMeetingSlo * 100).toFixed(1)}%</strong>
<span class="muted">(${p.months} simulated months, seed ${p.seed}; ${p.inputs.map((i) => `${h(i.kind)} ${i.perMonth}/month at ${h(formatMs(i.downtimeMs))} down`).join(", ")})</span></p>`;
}

/** Intervals listed by name; the total always covers all of them. */
const DOWNTIME_SHOWN = 10;

/** Downtime at request resolution (optional in the record: absent from early version-1 runs). */
export function downtimeLine(record: RunRecord): string {
  if (record.downtime === undefined) return "";
  const total = record.downtime.reduce((a, d) => a + (d.endMs - d.startMs), 0);
  const n = record.downtime.length;
  const list = record.downtime
    .slice(0, DOWNTIME_SHOWN)
    .map((d) => `${formatOffset(d.startMs)} to ${formatOffset(d.endMs)}`)
    .join(", ");
  const more = n > DOWNTIME_SHOWN ? `, and ${n - DOWNTIME_SHOWN} more` : "";
  return `<p id="downtime" data-total-ms="${total}" data-intervals="${n}">Downtime at request resolution: <strong>${h(formatMs(total))}</strong> in ${n} ${n === 1 ? "interval" : "intervals"}${n > 0 ? ` <span class="muted">(${list}${more})</span>` : ""}</p>`;
}

/**
 * What the load did when it honoured Retry-After, with its own line break (optional in the
 * record: only such runs have it; without it nothing, so older records render byte for byte
 * as before).
 */
export function retriesLine(record: RunRecord): string {
  const r = record.retries;
  const text = retriesText(record);
  if (r === undefined || text === null) return "";
  return `<p id="retries" data-sent="${r.sent}" data-ok="${r.outcomes.ok}" data-degraded="${r.outcomes.degraded}" data-failed="${failedRetries(r)}" data-without-retry-after="${r.withoutRetryAfter}" data-unsent="${r.unsent}">${h(text)}. <span class="muted">Each retry is a request of its own in the totals and charts.</span></p>\n`;
}
