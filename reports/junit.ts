import { answerAgainOf, fullServiceOf, recordLevels } from "../harness/record/levels.js";
import type { FaultTiming, RunRecord, SloResult } from "../harness/record/schema.js";
import { escapeXml as x } from "./escape.js";
import { describeSloOutcome, formatValue } from "./format.js";
import { failedRetries } from "./retries.js";

/**
 * JUnit XML in the common shape CI systems read (the Ant/Jenkins junit-10.xsd): one
 * <testsuite> per run, named after its scenario; one <testcase> per SLO, a <failure> carrying
 * the measured value and the bound when it was missed. A run that did not complete (aborted
 * or void) gets a "run completed" testcase with an <error>, and its SLO testcases are
 * <skipped>: a partial measurement is neither a pass nor a fail. A fault the harness could not
 * inject or revert is an error testcase too, because it makes the run's numbers suspect.
 *
 * Timestamps are UTC without a zone suffix, as the schema's ISO8601_DATETIME_PATTERN wants.
 */

interface Case {
  readonly name: string;
  readonly classname: string;
  readonly body: string;
  readonly kind: "pass" | "failure" | "error" | "skipped";
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);
const xmlTimestamp = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 19);

function sloCase(record: RunRecord, slo: SloResult, classname: string): Case {
  const name = `SLO ${slo.description}`;
  const outcome = describeSloOutcome(slo);
  if (record.status !== "completed") {
    const reason = `not evaluated: run ${record.status} (${outcome})`;
    return { name, classname, kind: "skipped", body: `<skipped message="${x(reason)}"/>` };
  }
  if (slo.passed) return { name, classname, kind: "pass", body: "" };
  const message = `${slo.description}: ${outcome}`;
  const detail = [
    `slo: ${slo.id}`,
    `metric: ${slo.metric}`,
    `measured: ${formatValue(slo.measured, slo.unit)} (${String(slo.measured)})`,
    `bound: ${slo.comparator} ${formatValue(slo.bound, slo.unit)} (${slo.bound})`,
    `margin: ${String(slo.margin)}`,
    ...(slo.faultId === undefined ? [] : [`fault: ${slo.faultId}`]),
  ].join("\n");
  return {
    name,
    classname,
    kind: "failure",
    body: `<failure message="${x(message)}" type="SloMissed">${x(detail)}</failure>`,
  };
}

function runCase(record: RunRecord, classname: string): Case | null {
  if (record.status === "completed") return null;
  const message = `run ${record.status}: ${record.statusReason ?? "no reason recorded"}`;
  return {
    name: "run completed",
    classname,
    kind: "error",
    body: `<error message="${x(message)}" type="Run${record.status === "void" ? "Void" : "Aborted"}"/>`,
  };
}

function faultCase(fault: FaultTiming, classname: string): Case | null {
  if (fault.error === undefined) return null;
  const message = `fault ${fault.id} (${fault.kind} on ${fault.target}): ${fault.error}`;
  return {
    name: `fault ${fault.id} injected and reverted`,
    classname,
    kind: "error",
    body: `<error message="${x(message)}" type="FaultError"/>`,
  };
}

function cases(record: RunRecord): Case[] {
  const classname = `faultline.${record.scenario.name}`;
  const out: Case[] = [];
  const run = runCase(record, classname);
  if (run) out.push(run);
  for (const f of record.faults) {
    const c = faultCase(f, classname);
    if (c) out.push(c);
  }
  for (const slo of record.slos) out.push(sloCase(record, slo, classname));
  return out;
}

export interface SuiteCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function count(list: readonly Case[]): SuiteCounts {
  const n = (k: Case["kind"]): number => list.filter((c) => c.kind === k).length;
  return { tests: list.length, failures: n("failure"), errors: n("error"), skipped: n("skipped") };
}

function testcase(c: Case): string {
  const open = `    <testcase name="${x(c.name)}" classname="${x(c.classname)}" time="0"`;
  return c.body === "" ? `${open}/>` : `${open}>\n      ${c.body}\n    </testcase>`;
}

/**
 * A load that honoured Retry-After: its retry counts, and how the headline availability counted
 * a retried request. Properties, not testcases: they describe the run; the retry-after SLO, when
 * the scenario set one, is the testcase that judges them. None for other runs.
 */
function retryProperties(record: RunRecord): [string, string][] {
  const r = record.retries;
  const basis: [string, string][] =
    record.availability.attempts === undefined
      ? []
      : [["availability.attempts", record.availability.attempts]];
  if (r === undefined) return basis;
  return [
    ...basis,
    ["retries.sent", String(r.sent)],
    ["retries.ok", String(r.outcomes.ok)],
    ["retries.degraded", String(r.outcomes.degraded)],
    ["retries.failed", String(failedRetries(r))],
    ["retries.withoutRetryAfter", String(r.withoutRetryAfter)],
    ["retries.unsent", String(r.unsent)],
    ["retries.retryAfterMs.p50", String(r.retryAfterMs.p50 ?? "")],
    ["retries.retryAfterMs.max", String(r.retryAfterMs.max ?? "")],
  ];
}

/** Both service levels side by side, and each fault's three times ("" when not measured). */
function levelProperties(record: RunRecord): [string, string][] {
  const l = recordLevels(record);
  const v = (n: number | null | undefined): string => (n === null || n === undefined ? "" : String(n));
  return [
    ["availability.answered", v(l.answered.availability)],
    ["availability.full", v(l.full.availability)],
    ["uptime.answered", v(l.answered.uptime)],
    ["uptime.full", v(l.full.uptime)],
    ...record.faults.flatMap((f): [string, string][] => [
      [`fault.${f.id}.timeToDetectMs`, v(f.timeToDetectMs)],
      ...(f.detectNote ? [[`fault.${f.id}.detectNote`, f.detectNote] as [string, string]] : []),
      [`fault.${f.id}.timeToAnswerAgainMs`, v(answerAgainOf(record, f))],
      [`fault.${f.id}.timeToFullServiceMs`, v(fullServiceOf(record, f))],
    ]),
  ];
}

function properties(record: RunRecord): string {
  const props: [string, string][] = [
    ["run.id", record.id],
    ["run.verdict", record.verdict],
    ["run.status", record.status],
    ["scenario.file", record.scenario.file ?? ""],
    ["scenario.seed", String(record.scenario.seed)],
    ["target", `${record.target.kind} ${record.target.url}`],
    ...levelProperties(record),
    ...retryProperties(record),
  ];
  return props.map(([k, v]) => `      <property name="${x(k)}" value="${x(v)}"/>`).join("\n");
}

function testsuite(record: RunRecord, list: readonly Case[], id: number): string {
  const c = count(list);
  return `  <testsuite name="${x(record.scenario.name)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(record.durationMs)}" timestamp="${xmlTimestamp(record.startedAtMs)}" hostname="${x(record.environment.hostname)}" id="${id}" package="faultline">
    <properties>
${properties(record)}
    </properties>
${list.map(testcase).join("\n")}
  </testsuite>`;
}

export function renderJunit(records: readonly RunRecord[]): string {
  const perRun = records.map(cases);
  const total = perRun.map(count).reduce(
    (a, b) => ({
      tests: a.tests + b.tests,
      failures: a.failures + b.failures,
      errors: a.errors + b.errors,
      skipped: a.skipped + b.skipped,
    }),
    { tests: 0, failures: 0, errors: 0, skipped: 0 },
  );
  const time = records.reduce((a, r) => a + r.durationMs, 0);
  const suites = records.map((r, i) => testsuite(r, perRun[i] ?? [], i)).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="faultline" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" time="${seconds(time)}">
${suites}
</testsuites>
`;
}
