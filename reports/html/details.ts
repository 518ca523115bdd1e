import { stringify } from "yaml";
import type { FaultTiming, RunRecord } from "../../harness/record/schema.js";
import { answerAgainOf, fullServiceOf, type LevelTime } from "../../harness/record/levels.js";
import { escapeHtml as h } from "../escape.js";
import { formatCount, formatMs, formatOffset, formatTimestamp } from "../format.js";

/** The lower half of the report: per-fault table, events, scenario as run, environment. */

const num = (v: number | null): string => (v === null ? "" : String(v));

/** A per-fault time at one level: ms, "never" (not before the run ended), "not recorded" (older record). */
const levelTime = (v: LevelTime): string =>
  v === undefined ? "not recorded" : v === null ? "never" : formatMs(v);
const raw = (v: LevelTime): string => (v === null || v === undefined ? "" : String(v));

function detectCell(f: FaultTiming): string {
  if (f.timeToDetectMs !== null) return formatMs(f.timeToDetectMs);
  // The note says why there is no number (no signal, or none before the service was back).
  const note = f.detectNote === undefined ? "" : `<div class="muted detect-note">${h(f.detectNote)}</div>`;
  return `not detected${note}`;
}

function faultRow(record: RunRecord, f: FaultTiming): string {
  const duration = f.endMs === null ? "instant" : formatMs(f.endMs - f.startMs);
  const answer = answerAgainOf(record, f);
  const full = fullServiceOf(record, f);
  const error = f.error === undefined ? "" : `<div class="error">${h(f.error)}</div>`;
  return `<tr data-fault-id="${h(f.id)}" data-ttd="${num(f.timeToDetectMs)}" data-ttr="${num(f.timeToRecoverMs)}" data-tta="${raw(answer)}" data-ttf="${raw(full)}" data-recovered="${String(f.recovered)}" data-failed="${f.requests.failed}" data-degraded="${f.requests.degraded}">
<td><code>${h(f.id)}</code><div class="muted">${h(f.description)}</div>${error}</td>
<td>${h(f.kind)}</td><td>${h(f.target)}</td>
<td class="num">${formatOffset(f.startMs)}</td><td class="num">${duration}</td>
<td class="num ttd">${detectCell(f)}</td><td class="num tta">${levelTime(answer)}</td><td class="num ttf">${levelTime(full)}</td>
<td class="num">${formatCount(f.requests.failed)} / ${formatCount(f.requests.degraded)} <span class="muted">of ${formatCount(f.requests.total)}</span></td>
</tr>`;
}

export function faultTable(record: RunRecord): string {
  if (record.faults.length === 0) return `<p id="faults" class="muted">No faults were injected.</p>`;
  return `<table id="faults">
<thead><tr><th>Fault</th><th>Kind</th><th>Target</th><th class="num">Start</th><th class="num">Duration</th><th class="num">Time to detect</th><th class="num">Time to answer again</th><th class="num">Time to full service</th><th class="num">Failed / degraded</th></tr></thead>
<tbody>
${record.faults.map((f) => faultRow(record, f)).join("\n")}
</tbody></table>`;
}

/** Events can number in the thousands (one per max-in-flight hit); the page shows the first ones. */
export const MAX_EVENTS_SHOWN = 200;

export function eventList(record: RunRecord): string {
  if (record.events.length === 0) return "";
  const shown = record.events.slice(0, MAX_EVENTS_SHOWN);
  const more = record.events.length - shown.length;
  const rows = shown
    .map(
      (e) =>
        `<tr><td class="num">${formatOffset(e.tMs)}</td><td>${h(e.kind)}</td><td>${h(e.message)}</td></tr>`,
    )
    .join("\n");
  return `<details id="events"><summary>Events (${record.events.length})</summary>
<table><tbody>${rows}</tbody></table>${more > 0 ? `<p class="muted">${more} more in the run record.</p>` : ""}</details>`;
}

function checks(title: string, list: RunRecord["steadyState"]["before"]): string {
  if (list.length === 0) return "";
  const items = list
    .map(
      (c) =>
        `<li>${c.passed ? "\u2713 met" : "\u2717 not met"}: ${h(c.name)} <span class="muted">${h(c.detail)}</span></li>`,
    )
    .join("");
  return `<p>${title}</p><ul>${items}</ul>`;
}

export function scenarioBlock(record: RunRecord): string {
  const file = record.scenario.file === null ? "(inline)" : record.scenario.file;
  return `<section id="scenario"><h2>Scenario as run</h2>
<p class="muted">${h(file)}, seed ${record.scenario.seed}</p>
<pre>${h(stringify(record.scenario.source))}</pre>
${checks("Steady state before", record.steadyState.before)}${checks("Steady state after", record.steadyState.after)}
</section>`;
}

export function environmentBlock(record: RunRecord): string {
  const e = record.environment;
  const l = record.load;
  const rows: [string, string][] = [
    ["Target", `${record.target.kind}: ${record.target.description} (${record.target.url})`],
    [
      "Load",
      `${l.targetRate} req/s open model, deadline ${formatMs(l.deadlineMs)}, max in flight ${l.maxInFlight} (hit ${l.maxInFlightHits}x), send lag p99 ${formatMs(l.sendLagP99Ms)}`,
    ],
    ["Started / ended", `${formatTimestamp(record.startedAtMs)} / ${formatTimestamp(record.endedAtMs)}`],
    ["faultline / Node", `${e.faultline} / ${e.node}`],
    [
      "Host",
      `${e.hostname}: ${e.platform} ${e.arch}, ${e.cpus} CPUs, ${(e.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
    ],
    ["Per-request file", record.requestsFile ?? "none"],
  ];
  return `<section id="environment"><h2>Environment</h2><table class="kv"><tbody>
${rows.map(([k, v]) => `<tr><th>${k}</th><td>${h(v)}</td></tr>`).join("\n")}
</tbody></table></section>`;
}
