import { levelMarking } from "../load/levels.js";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

import type { Runtime } from "../../common/runtime.js";
import { targetKind } from "../targets/kinds.js";
import { ROUTES } from "../targets/protocol.js";
import { requireK6 } from "../k6/driver.js";
import { k6LoadDriver } from "../k6/load-driver.js";
import type { TargetHandles } from "../faults/injector.js";
import { runId, uniqueRunId } from "../record/run-id.js";
import type { RunEvent, RunRecord } from "../record/schema.js";
import { writeRunRecord } from "../record/io.js";
import { REQUESTS_FILE } from "../record/requests-file.js";
import { columnsFromRows } from "../sla/columns.js";
import { columnsSource } from "../sla/source.js";
import { formatDuration } from "../scenario/duration.js";
import { buildPlan, runDurationMs } from "../scenario/plan.js";
import type { LoadedScenario } from "../scenario/load.js";
import { targetNamesFor } from "../scenario/semantic.js";
import type { Scenario } from "../scenario/schema.js";
import { StartedJournal } from "../faults/started.js";
import { spillPathOf } from "../record/requests-stream.js";
import { startTarget, type RunningTarget } from "../targets/index.js";
import {
  alertArrivals,
  analyze,
  faultWindows,
  notificationArrivals,
  notificationSubscriptions,
} from "./analysis.js";
import { startSubscribers, type Subscribers } from "../notifications/subscriber.js";
import { startAlertReceiver, type AlertReceiver } from "../alerts/receiver.js";
import { executeRun, type ExecuteInput, type ExecuteResult } from "./execute.js";
import { Links } from "./network.js";
import type { Progress } from "./progress.js";
import { assembleRecord } from "./record-builder.js";
import { readMetricSeries, runChecks, type CheckResult } from "./steady-state.js";

export interface ScenarioRunOptions {
  readonly rt: Runtime;
  readonly version: string;
  /** Overrides the scenario's reporting.dir. */
  readonly runsDir?: string;
  readonly journalDir: string;
  readonly progress: Progress;
  readonly interrupt: AbortSignal;
  /** Live dashboard (a terminal): stop/abort are what q and a do (as SIGINT). */
  readonly dashboard?: { readonly stop: () => void; readonly abort: () => void };
  /** Game day: no planned end (see OpenEnded). */
  readonly openEnded?: OpenEnded;
}

/**
 * A run with no planned end (`faultline gameday`): the load holds its last rate until the
 * interrupt fires or `maxDurationMs` passes (a hard bound, so the load loop stays bounded).
 * An interrupt is the session's normal end (after-checks run, status completed, SLOs judged
 * over the time that ran) unless `aborted()` says it was an abort (`a`).
 */
export interface OpenEnded {
  readonly maxDurationMs: number;
  readonly aborted: () => boolean;
}

export interface ScenarioRun {
  readonly record: RunRecord;
  readonly runDir: string;
}

/**
 * One scenario: start the target, put the links in front, check the steady state, run load and
 * faults, check again, judge, write `runs/<id>/`. Teardown (faults already reverted by the
 * execute step; proxies; target) happens whatever went wrong. A target that does not start
 * throws RunNotPossibleError (nothing to record); a failed steady state before faults gives a
 * void record with no fault injected.
 */
export async function runScenario(given: LoadedScenario, opts: ScenarioRunOptions): Promise<ScenarioRun> {
  const loaded = opts.openEnded ? withLoadBound(given, opts.openEnded.maxDurationMs) : given;
  const s = loaded.scenario;
  const { rt } = opts;
  // Refused before anything starts: no run directory, no target process.
  if (s.load.driver === "k6") await requireK6(rt.env);
  const runDir = await allocateRunDir(opts.runsDir ?? s.reporting.dir, s.name, rt);
  const events: RunEvent[] = [];
  let origin = 0;
  const emit = (e: RunEvent): void => {
    events.push(e);
    opts.progress.event(s.name, e);
  };
  opts.progress.line(s.name, `starting ${s.target.kind} target`);
  const links = new Links({ runId: runDir.split("/").pop() ?? "run", seed: s.seed, env: rt.env });
  let target: RunningTarget | null = null;
  let alerts: AlertReceiver | null = null;
  let subscribers: Subscribers | null = null;
  try {
    alerts = s.alerts
      ? await startAlertReceiver({
          port: s.alerts.port,
          clock: rt.clock,
          originMs: () => origin,
          onEvent: emit,
        })
      : null;
    if (alerts) opts.progress.line(s.name, `receiving alerts at ${alerts.url}`);
    target = await startTarget(s.target, {
      clock: rt.clock,
      runDir,
      env: rt.env,
      originMs: () => origin,
      onEvent: emit,
      link: (name, url) => links.add(name, url),
      started: new StartedJournal(opts.journalDir),
      ...(alerts ? { alertWebhookUrl: alerts.url } : {}),
    });
    const subscriptions = notificationSubscriptions(s);
    if (subscriptions.length > 0) {
      // Before the steady-state checks, so the first notification of a fault is not missed.
      subscribers = startSubscribers(subscriptions, {
        targetUrl: target.url,
        clock: rt.clock,
        originMs: () => origin,
        onEvent: emit,
      });
      await subscribers.started;
    }
    const clientUrl = needsClientLink(s) ? await links.add("client-api", target.url) : target.url;
    const network = { clientUrl, toxiproxy: links.toxiproxy };
    opts.progress.line(
      s.name,
      `target ready at ${target.url}${clientUrl === target.url ? "" : ` (clients via ${clientUrl})`}`,
    );
    const parts = {
      loaded,
      opts,
      target,
      network,
      runDir,
      events,
      emit,
      setOrigin: (t: number) => (origin = t),
    };
    return await steadyThenRun(parts);
  } finally {
    await subscribers?.stop();
    await links.close();
    await target?.stop();
    await alerts?.stop();
  }
}

interface Parts {
  readonly loaded: LoadedScenario;
  readonly opts: ScenarioRunOptions;
  readonly target: RunningTarget;
  readonly network: { readonly clientUrl: string; readonly toxiproxy: Links["toxiproxy"] };
  readonly runDir: string;
  readonly events: RunEvent[];
  emit(e: RunEvent): void;
  setOrigin(t: number): void;
}

async function steadyThenRun(p: Parts): Promise<ScenarioRun> {
  const s = p.loaded.scenario;
  const before = await checks(p, s.steadyState.before, "before");
  if (before.some((c) => !c.passed)) {
    const failed = before
      .filter((c) => !c.passed)
      .map((c) => `${c.name}: ${c.detail}`)
      .join("; ");
    const now = p.opts.rt.clock.now();
    const record = assembleRecord({
      ...common(p, now, now),
      status: "void",
      statusReason: `steady state not met before faults (${failed}); no fault was injected`,
      load: null,
      sla: analyze(s, columnsSource(columnsFromRows([])), 0, [], []),
      occurrences: [],
      steadyState: { before, after: [] },
      metrics: [],
    });
    return write(p, record, null);
  }
  const k6 = s.load.driver === "k6" ? k6LoadDriver(s, { dir: p.runDir, env: p.opts.rt.env }) : null;
  const baseline = await baselineFor(p);
  const ran = await execute(p, k6?.start);
  const { exec, measuredMs, note } = judgedSpan(p, ran, buildPlan(s).durationMs);
  const after =
    exec.interrupted || exec.aborted ? [] : await checks(p, s.steadyState.after, "after", baseline);
  const origin = exec.load.startedAtMs;
  const failedFault = exec.occurrences.find((o) => o.status === "failed" && o.error !== undefined);
  const status = statusOf(exec, failedFault?.error);
  const record = assembleRecord({
    ...common(p, origin, p.opts.rt.clock.now()),
    ...status,
    ...(note !== null && status.status === "completed" ? { statusReason: note } : {}),
    load: exec.load,
    sla: analyze(
      s,
      exec.load.requests,
      measuredMs,
      faultWindows(exec.occurrences, origin),
      exec.metrics,
      exec.load.retries,
      alertArrivals(p.events),
      notificationArrivals(p.events),
    ),
    occurrences: exec.occurrences,
    steadyState: { before, after },
    metrics: exec.metrics,
    k6: k6?.report() ?? null,
  });
  return write(p, record, exec);
}

/**
 * What is judged, and over how long. A game day's interrupt (q, Ctrl-C, SIGTERM) is its
 * planned end, not an interruption, and it is judged over the time that ran, not the bound.
 */
function judgedSpan(
  p: Parts,
  ran: ExecuteResult,
  plannedMs: number,
): { exec: ExecuteResult; measuredMs: number; note: string | null } {
  const open = p.opts.openEnded;
  if (open === undefined) return { exec: ran, measuredMs: plannedMs, note: null };
  const exec = ran.interrupted && !open.aborted() ? { ...ran, interrupted: false } : ran;
  const measuredMs = ran.stoppedAtMs === null ? plannedMs : Math.min(plannedMs, ran.stoppedAtMs);
  return { exec, measuredMs, note: `game day (no planned end): ran ${formatDuration(measuredMs)}` };
}

function statusOf(
  exec: ExecuteResult,
  faultError: string | undefined,
): { status: RunRecord["status"]; statusReason?: string } {
  if (exec.aborted !== null)
    return { status: "aborted", statusReason: `abort condition met: ${exec.aborted}` };
  if (exec.interrupted) return { status: "aborted", statusReason: interruptReason(exec.interruptedBy) };
  if (faultError !== undefined)
    return { status: "void", statusReason: `a fault could not be injected: ${faultError}` };
  if (exec.reverts.failed.length > 0) {
    return {
      status: "void",
      statusReason: `revert failed for ${exec.reverts.failed.map((f) => f.occurrenceId).join(", ")}; run \`faultline cleanup\``,
    };
  }
  return { status: "completed" };
}

/** Says who ended the run early: the dashboard's keys read differently from a signal. */
export function interruptReason(by: string | null): string {
  switch (by) {
    case "q":
      return "stopped from the dashboard (q); faults rolled back";
    case "a":
      return "aborted from the dashboard (a); faults rolled back";
    case null:
    case "":
      return "interrupted; faults rolled back";
    default:
      return `interrupted (${by}); faults rolled back`;
  }
}

function common(p: Parts, startedAtMs: number, endedAtMs: number) {
  return {
    id: p.runDir.split("/").pop() ?? "run",
    loaded: p.loaded,
    version: p.opts.version,
    startedAtMs,
    endedAtMs,
    target: { kind: p.target.kind, url: p.network.clientUrl, description: p.target.description },
    events: p.events,
  };
}

/** Metric series just before the load, when an after check judges a change over the run. */
async function baselineFor(p: Parts): Promise<Record<string, number> | null> {
  const wanted = p.loaded.scenario.steadyState.after.some((c) => c.kind === "metric" && c.change);
  // A failed read leaves no baseline: the change check then fails and says so.
  return wanted ? await readMetricSeries(p.target.url).catch(() => null) : null;
}

async function checks(
  p: Parts,
  list: Scenario["steadyState"]["before"],
  when: "before" | "after",
  baseline: Record<string, number> | null = null,
): Promise<CheckResult[]> {
  if (list.length === 0) return [];
  const s = p.loaded.scenario;
  const results = await runChecks(list, {
    baseUrl: p.network.clientUrl,
    targetUrl: p.target.url,
    clock: p.opts.rt.clock,
    seed: s.seed,
    template: s.load.mix[0] ?? {
      kind: "chat",
      weight: 1,
      stream: false,
      prompt: "Say hello.",
      maxTokens: 16,
    },
    deadlineMs: s.load.deadline,
    baseline,
    levels: levelMarking(s.target.levels),
  });
  const passed = results.filter((r) => r.passed).length;
  p.emit({ tMs: 0, kind: "steady-state", message: `${when}: ${passed}/${results.length} checks passed` });
  for (const r of results.filter((x) => !x.passed))
    p.opts.progress.line(s.name, `steady state ${when}: FAILED ${r.name}: ${r.detail}`);
  return results;
}

async function execute(p: Parts, startLoad?: ExecuteInput["startLoad"]): Promise<ExecuteResult> {
  const s = p.loaded.scenario;
  const handles: TargetHandles = {
    ...p.target.handles,
    ...(p.network.toxiproxy ? { toxiproxy: p.network.toxiproxy } : {}),
  };
  const linkNames = Object.keys(p.network.toxiproxy?.links ?? {}).map((l) => `link:${l}`);
  const names = [...targetNamesFor(s.target).filter((n) => !n.startsWith("link:")), ...linkNames];
  let stopTicker = (): void => undefined;
  let stopDashboard = (): Promise<void> => Promise.resolve();
  const requestsFile = join(p.runDir, REQUESTS_FILE);
  // The spill grows with the run (gigabytes for a long game day): a killed run's is removed by
  // `faultline cleanup`. Not recorded (journal not writable): the run goes on regardless.
  const spill = await new StartedJournal(p.opts.journalDir)
    .record(`requests spill of run ${basename(p.runDir)}`, { type: "file", path: spillPathOf(requestsFile) })
    .catch(() => null);
  try {
    return await executeRun({
      scenario: s,
      clock: p.opts.rt.clock,
      clientUrl: p.network.clientUrl,
      metricsUrl: targetKind(s.target).servesMetrics(s.target) ? `${p.target.url}${ROUTES.metrics}` : null,
      targets: Object.fromEntries(names.map((n) => [n, handles])),
      journalDir: p.opts.journalDir,
      // Streamed as the run goes (bounded memory); kept only if reporting.requests says so.
      requestsFile,
      interrupt: p.opts.interrupt,
      onEvent: (e) => p.emit(e),
      ...(startLoad ? { startLoad } : {}),
      onStart: (origin, load, live) => {
        p.setOrigin(origin);
        p.opts.progress.line(
          s.name,
          `load started: ${s.load.rate} req/s for ${buildPlan(s).durationMs / 1000}s, ${s.faults.length} fault(s) on the timeline`,
        );
        const dashboard = p.opts.dashboard;
        if (dashboard) {
          const pending = import("../dashboard/index.js").then(({ attachDashboard }) =>
            attachDashboard({
              rt: p.opts.rt,
              title: s.name,
              slos: s.slos,
              load,
              plan: live.plan,
              plannedMs: p.opts.openEnded ? null : live.plan.durationMs,
              scheduler: live.scheduler,
              targets: names,
              healthBaseUrl: targetKind(s.target).dashboardHealth(s.target) ? p.target.url : null,
              ...dashboard,
            }),
          );
          stopDashboard = async () => (await pending).stop();
        } else stopTicker = p.opts.progress.ticker(s.name, load, p.opts.rt.clock);
      },
    });
  } finally {
    stopTicker();
    await stopDashboard();
    await spill?.forget();
  }
}

async function write(p: Parts, record: RunRecord, exec: ExecuteResult | null): Promise<ScenarioRun> {
  const s = p.loaded.scenario;
  const streamed = exec?.load.requestsFile ?? null;
  const keep = s.reporting.requests && exec !== null;
  const final = await writeRunRecord(
    p.runDir,
    record,
    !keep ? undefined : streamed !== null ? { writtenTo: streamed } : exec.load.columns,
  );
  if (!keep && streamed !== null) await rm(streamed, { force: true });
  return { record: final, runDir: p.runDir };
}

/** Open-ended: the load runs until stopped, at most `maxMs` (never shorter than the file's own stages). */
function withLoadBound(l: LoadedScenario, maxMs: number): LoadedScenario {
  const duration = Math.max(maxMs, runDurationMs(l.scenario.load));
  return { ...l, scenario: { ...l.scenario, load: { ...l.scenario.load, duration } } };
}

function needsClientLink(s: Scenario): boolean {
  return s.faults.some((f) => f.target === "link:client-api");
}

async function allocateRunDir(dir: string, name: string, rt: Runtime): Promise<string> {
  const base = resolve(rt.cwd, dir);
  const id = uniqueRunId(runId(rt.clock.now(), name), (c) => existsSync(join(base, c)));
  const runDir = join(base, id);
  await mkdir(runDir, { recursive: true });
  return runDir;
}
