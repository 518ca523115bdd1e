/**
 * Builds and runs the API process: supervisor + worker, the policy pipeline around the primary
 * backend, the fallback chain, metrics, the HTTP front, state files and graceful drain.
 * `serveReference` is what main.ts, the CLI (`faultline serve-reference`) and tests call.
 */
import { watch } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import type { Runtime } from "../common/runtime.js";
import { InvalidInputError } from "../common/errors.js";
import type { ModelBackend } from "./backend.js";
import { resolveConfig, zodIssues, type ServiceConfig } from "./config.js";
import { Counter } from "prom-client";
import { METRICS, STATE_FILES, type ServiceLevel } from "./contract.js";
import type { ApiContext, ModelInfo, ModelOps } from "./api/context.js";
import { createApiServer, type ApiServer } from "./api/server.js";
import { RESUME_OUTCOMES } from "./api/stream-resume.js";
import {
  readHeartbeat,
  workerCatalog,
  workerConfigSchema,
  type ModelState,
  type ModelStatus,
  type WorkerConfig,
} from "./ipc/protocol.js";
import { heartbeatToMetrics } from "./metrics/heartbeat-metrics.js";
import {
  createMetrics,
  recordBreakerTransition,
  setBreakerState,
  type ServiceMetrics,
} from "./metrics/registry.js";
import { AdmissionControl } from "./policies/admission.js";
import { BackendBreaker } from "./policies/breaker.js";
import { CpuModelBackend } from "./policies/cpu-model.js";
import { ServingPipeline, type FallbackLevel, type RecoveryActions } from "./policies/pipeline.js";
import { LADDER_NAMES, RecoveryLadders, STEP_OUTCOMES } from "./policies/recovery-ladder.js";
import { workerRecoveryActions } from "./supervisor/recovery-actions.js";
import { CacheBackend, ResponseCache } from "./policies/response-cache.js";
import { StaticAnswerBackend } from "./policies/static-answer.js";
import { WorkerSupervisor } from "./supervisor/supervisor.js";
import { spawnWorkerProcess } from "./supervisor/worker-process.js";
import { openPrimaryBackend } from "./supervisor/primary-backend.js";
import { UpstreamBackend } from "./supervisor/upstream-backend.js";
import { checkLlamaInstalled, resolveGeneratedModels } from "./llama/generated-models.js";
import type { SpoolBackend } from "./ipc/spool-client.js";
import { hostCritical } from "./alerts/host-usage.js";
import { AlertMonitor } from "./alerts/monitor.js";
import { readiness } from "./api/probes.js";
import {
  attachEventSocket,
  ReliabilityEvents,
  type EventSocket,
  type EventsSnapshotSource,
} from "./api/events.js";
import { currentServiceLevel } from "./api/health.js";

export interface ServeOptions {
  /** Partial config (defaults fill the rest), e.g. from loadConfig() or a test. */
  readonly config?: unknown;
  /**
   * Replaces the worker: no process is spawned and this backend is the primary. For tests of
   * the API and policies, and for embedding.
   */
  readonly backend?: ModelBackend;
  /** Worker stderr: inherit (default) or ignore. */
  readonly workerStderr?: "inherit" | "ignore";
}

export interface RunningService {
  readonly url: string;
  readonly config: ServiceConfig;
  readonly api: ApiServer;
  readonly metrics: ServiceMetrics;
  readonly supervisor: WorkerSupervisor | null;
  /** The alert rules (evaluated on the clock every alerts.evaluateIntervalMs). */
  readonly alerts: AlertMonitor;
  /** The relay behind GET /v1/reliability/events (WebSocket). */
  readonly events: ReliabilityEvents;
  /** Graceful drain then stop (idempotent). Resolves with the number of requests lost. */
  close(): Promise<number>;
  /** Immediate stop: SIGKILL the worker, drop connections. */
  forceClose(): Promise<void>;
}

function parseWorkerConfig(config: ServiceConfig): WorkerConfig {
  const parsed = workerConfigSchema.safeParse(config.worker);
  if (!parsed.success)
    throw new InvalidInputError(zodIssues(parsed.error).map((i) => ({ ...i, path: `worker.${i.path}` })));
  return parsed.data;
}

/** The worker's config with generated models filled in; engine llama checked installed when a worker will run. */
async function prepareWorkerConfig(
  config: ServiceConfig,
  stateDir: string,
  spawnsWorker: boolean,
): Promise<WorkerConfig> {
  const parsed = parseWorkerConfig(config);
  if (spawnsWorker) checkLlamaInstalled(parsed);
  return resolveGeneratedModels(parsed, stateDir);
}

function buildFallbacks(
  config: ServiceConfig,
  clock: Runtime["clock"],
  cache: ResponseCache | undefined,
): FallbackLevel[] {
  const levels: FallbackLevel[] = [];
  if (cache) levels.push({ level: "degraded", backend: new CacheBackend(cache) });
  if (config.fallback.cpuModel)
    levels.push({ level: "degraded", backend: new CpuModelBackend(clock, config.fallback.cpuModelTokenMs) });
  if (config.fallback.static)
    levels.push({ level: "minimal", backend: new StaticAnswerBackend(config.fallback.staticAnswer) });
  return levels;
}

function createSupervisor(
  config: ServiceConfig,
  workerConfig: WorkerConfig,
  stateDir: string,
  clock: Runtime["clock"],
  metrics: ServiceMetrics,
  stderr: "inherit" | "ignore",
  spool: SpoolBackend,
  onBackendRecovered: () => void,
  events: ReliabilityEvents,
): WorkerSupervisor {
  const toMetrics = heartbeatToMetrics(metrics, (model, outcome, count) =>
    events.modelDownload(model, outcome, count),
  );
  let readyPid = -1;
  let cotenantBytes = 0;
  return new WorkerSupervisor(
    config.supervisor,
    spawnWorkerProcess(stateDir, workerConfig, stderr),
    (now) => readHeartbeat(stateDir, now),
    clock,
    {
      restart: (cause, delayMs) => {
        metrics.workerRestarts.inc({ cause });
        events.workerRestarting(cause, delayMs);
      },
      giveUp: (reason) => {
        metrics.workerGivenUp.set(1);
        events.workerGivenUp(reason);
      },
      workerUp: (up) => metrics.workerUp.set(up ? 1 : 0),
      heartbeat: (hb) => {
        toMetrics(hb);
        // Only once the spool client, too, sees this worker: else the half-open probe would fail.
        const clientSees = (() => {
          const st = spool.workerStatus();
          return st.ok && st.heartbeat.pid === hb.pid;
        })();
        // A new worker, or memory given back by a co-tenant: conditions changed, probe now.
        const released = hb.vram.cotenantBytes < cotenantBytes;
        cotenantBytes = hb.vram.cotenantBytes;
        if (hb.phase === "ready" && clientSees && (hb.pid !== readyPid || released)) {
          readyPid = hb.pid;
          events.workerReady(hb.pid);
          onBackendRecovered();
        }
      },
      workerExit: (pid) => spool.notifyWorkerExit(pid),
    },
    (changed) => watchHeartbeatFile(stateDir, changed),
  );
}

/**
 * Calls `changed` whenever the worker's heartbeat file is replaced (it is written by rename, so
 * the watch sees its name); returns how to stop. Without a watch (an unsupported file system)
 * the supervisor's polls alone notice a new worker, as before.
 */
function watchHeartbeatFile(stateDir: string, changed: () => void): () => void {
  const path = join(stateDir, STATE_FILES.heartbeat);
  const name = basename(path);
  try {
    const watcher = watch(dirname(path), (_event, file) => {
      if (file === name) changed();
    });
    watcher.on("error", () => watcher.close());
    return () => watcher.close();
  } catch {
    return () => undefined;
  }
}

/** What the ladder steps act on: the supervised worker, or nothing (an upstream or embedded backend). */
function recoveryActions(
  supervisor: WorkerSupervisor | null,
  spool: SpoolBackend | null,
  config: ServiceConfig,
  clock: Runtime["clock"],
): RecoveryActions {
  if (!supervisor || !spool) return {};
  return workerRecoveryActions(supervisor, spool, clock, config.supervisor.checkIntervalMs);
}

/** The ladders with their counter, every series scraping as 0 from the start; null when off. */
function buildLadders(config: ServiceConfig, clock: Runtime["clock"], metrics: ServiceMetrics) {
  if (!config.recovery.enabled) return null;
  for (const ladder of LADDER_NAMES)
    for (const step of config.recovery.ladders[ladder])
      for (const outcome of STEP_OUTCOMES) metrics.recoveryLadderSteps.inc({ ladder, step, outcome }, 0);
  return new RecoveryLadders(config.recovery, clock, {
    step: (ladder, step, outcome) => metrics.recoveryLadderSteps.inc({ ladder, step, outcome }),
  });
}

function buildPipeline(
  config: ServiceConfig,
  clock: Runtime["clock"],
  primary: ModelBackend,
  metrics: ServiceMetrics,
  supervisor: WorkerSupervisor | null,
  spool: SpoolBackend | null,
  events: ReliabilityEvents,
  live: Live,
) {
  const breaker = new BackendBreaker(primary.name, config.breaker, clock, (b, from, to) => {
    recordBreakerTransition(metrics, b, from, to);
    events.breakerTransition(b, from, to);
  });
  setBreakerState(metrics, primary.name, "closed");
  const cache = config.fallback.cache ? new ResponseCache(config.fallback.cacheEntries) : undefined;
  const fallbacks = buildFallbacks(config, clock, cache);
  const ladders = buildLadders(config, clock, metrics);
  const { optimizedContextTokens, reducedMaxTokens, pipelineWaitMs } = config.recovery;
  const pipeline = new ServingPipeline({
    primary,
    breaker,
    retry: config.retry,
    timeoutMs: config.requestTimeoutMs,
    attemptIdleTimeoutMs: config.attemptIdleTimeoutMs,
    fallbacks,
    ...(cache ? { cache } : {}),
    clock,
    observer: {
      fallback: (from, to, reason) => {
        metrics.fallbacks.inc({ from, to, reason });
        events.fallbackServed(fallbacks.find((f) => f.backend.name === to)?.level ?? null, to, reason);
      },
      retry: (backend, reason) => metrics.retries.inc({ backend, reason }),
    },
    ...(ladders && {
      recovery: {
        ladders,
        cpuOffload: new CpuModelBackend(clock, config.fallback.cpuModelTokenMs),
        optimizedContextTokens,
        reducedMaxTokens,
        pipelineWaitMs,
        breakerClosesOnFreshWorker: config.breaker.closeOnFreshWorker,
        actions: {
          ...recoveryActions(supervisor, spool, config, clock),
          // The alert rules' last reading of the host (alerts.hostRules), against their thresholds.
          systemCritical: () =>
            hostCritical(live.alerts?.lastHostUsage, config.alerts, config.recovery.systemResources),
        },
      },
    }),
  });
  return { breaker, pipeline, fallbacks };
}

/**
 * Model operations through the worker. The worker writes a heartbeat before it acknowledges
 * one; reading it before answering makes the model states the API shows (GET /v1/models/{id},
 * the repository index) agree with the operation it just answered.
 */
function modelOpsThrough(spool: SpoolBackend, supervisor: WorkerSupervisor | null): ModelOps {
  const after = async (op: Promise<ModelState>): Promise<ModelState> => {
    const state = await op;
    await supervisor?.refreshHeartbeat();
    return state;
  };
  return {
    load: (model, keepAliveMs) => after(spool.loadModel(model, keepAliveMs)),
    unload: (model) => after(spool.unloadModel(model)),
    verify: (model) => after(spool.verifyModel(model)),
  };
}

/** Objects read at scrape or evaluation time, set as they come to exist. */
interface Live {
  admission?: AdmissionControl;
  api?: ApiServer;
  breaker?: BackendBreaker;
  alerts?: AlertMonitor;
  ctx?: ApiContext;
  url?: string;
}

export async function serveReference(options: ServeOptions, runtime: Runtime): Promise<RunningService> {
  const config = resolveConfig(options.config ?? {});
  const { clock } = runtime;
  const stateDir = resolve(runtime.cwd, config.stateDir);
  const workerConfig = await prepareWorkerConfig(config, stateDir, options.backend === undefined);
  await makeSpoolDirs(stateDir);

  // The gauges read live objects at scrape time; they exist before the objects do.
  const live: Live = {};
  const metrics = createMetrics({
    running: () => live.admission?.running ?? 0,
    waiting: () => live.admission?.queued ?? 0,
    inflight: () => live.api?.inflight() ?? 0,
  });
  const admission = new AdmissionControl(config.admission, clock, (code, reason) =>
    metrics.rejections.inc({ code: String(code), reason }),
  );
  live.admission = admission;

  const events = new ReliabilityEvents(clock, config.events.checkIntervalMs);
  const upstream = !options.backend && config.upstream ? await connectUpstream(config.upstream) : null;
  const spool =
    options.backend || upstream
      ? null
      : await openPrimaryBackend({
          stateDir,
          clock,
          config,
          onFrameRejected: (kind) => metrics.ipcFramesCorrupt.inc({ kind }),
        });
  const supervisor = spool
    ? createSupervisor(
        config,
        workerConfig,
        stateDir,
        clock,
        metrics,
        options.workerStderr ?? "inherit",
        spool,
        // breaker.closeOnFreshWorker: false waits out the open period, as a plain breaker does.
        () => config.breaker.closeOnFreshWorker && live.breaker?.backendRecovered(),
        events,
      )
    : null;
  const primary: ModelBackend | null = options.backend ?? upstream ?? spool;
  if (!primary) throw new Error("no primary backend");

  const built = buildPipeline(config, clock, primary, metrics, supervisor, spool, events, live);
  const { breaker, pipeline, fallbacks } = built;
  live.breaker = breaker;
  const models = modelCatalog(upstream, workerConfig);
  const streamResumes = streamResumeCounter(metrics);
  const alerts = createAlertMonitor(config, clock, metrics, breaker, supervisor, live, events);
  const ctx: ApiContext = {
    config,
    clock,
    admission,
    pipeline,
    breaker,
    metrics,
    models,
    fallbackLevels: [...new Set<ServiceLevel>(fallbacks.map((f) => f.level))],
    fallbackChain: fallbacks.map((f) => ({ level: f.level, backend: f.backend.name })),
    workerStatus: () => supervisor?.status() ?? null,
    modelStates: (): readonly ModelStatus[] => supervisor?.status().heartbeat?.models ?? [],
    retryAfterMs: () => retryAfterEstimate(supervisor, breaker, admission),
    streamResumed: (outcome) => streamResumes.inc({ outcome }),
    alerts,
    modelOps: spool && modelOpsThrough(spool, supervisor),
  };
  live.ctx = ctx;
  const api = createApiServer(ctx);
  live.api = api;
  supervisor?.start();
  const url = await listen(api, config);
  live.url = url;
  alerts.start();
  events.start(eventsSource(ctx, api, supervisor, alerts));
  await writeStateFiles(stateDir, url);
  return running({ url, config, api, metrics, supervisor, stateDir, clock, spool, alerts, events });
}

async function makeSpoolDirs(stateDir: string): Promise<void> {
  await mkdir(join(stateDir, STATE_FILES.spoolRequests), { recursive: true });
  await mkdir(join(stateDir, STATE_FILES.spoolResponses), { recursive: true });
  await mkdir(join(stateDir, STATE_FILES.spoolQuarantine), { recursive: true });
}

/** Models clients may name: the upstream's, or the worker's catalog. */
function modelCatalog(upstream: UpstreamBackend | null, workerConfig: WorkerConfig): ModelInfo[] {
  return upstream
    ? upstream.models.map((id) => ({ id, task: "any" }))
    : workerCatalog(workerConfig).map((m) => ({ id: m.name, task: m.task }));
}

/** What the events WebSocket reads: a new subscriber's snapshot and the health it watches. */
function eventsSource(
  ctx: ApiContext,
  api: ApiServer,
  supervisor: WorkerSupervisor | null,
  alerts: AlertMonitor,
): EventsSnapshotSource {
  return {
    health: () => {
      const r = readiness(ctx, api.draining);
      const serviceLevel = currentServiceLevel(r, ctx.fallbackLevels);
      return { status: r.status, ready: r.ready, reason: r.reason, serviceLevel };
    },
    breakers: () => [{ name: ctx.breaker.backend, state: ctx.breaker.state }],
    worker: () => {
      const w = supervisor?.status();
      return w ? { state: w.state, pid: w.pid, restarts: w.restarts } : null;
    },
    firingAlerts: () =>
      alerts.engine
        .alerts()
        .filter((a) => a.state === "firing")
        .map((a) => a.labels.alertname ?? ""),
  };
}

function streamResumeCounter(metrics: ServiceMetrics): Counter<"outcome"> {
  const streamResumes = new Counter({
    name: METRICS.streamResumes,
    help: "Stream continuations after a mid-stream backend failure, by outcome",
    labelNames: ["outcome"],
    registers: [metrics.registry],
  });
  // Every outcome scrapes as 0 from the start, so a rate over the first resume is defined.
  for (const outcome of RESUME_OUTCOMES) streamResumes.inc({ outcome }, 0);
  return streamResumes;
}

/** The alert rules over the live service: breakers, worker and readiness (the health check). */
function createAlertMonitor(
  config: ServiceConfig,
  clock: Runtime["clock"],
  metrics: ServiceMetrics,
  breaker: BackendBreaker,
  supervisor: WorkerSupervisor | null,
  live: Live,
  events: ReliabilityEvents,
): AlertMonitor {
  // Set as it is made: the recovery ladders' system health check reads its host readings.
  return (live.alerts = new AlertMonitor({
    config: config.alerts,
    clock,
    metrics,
    snapshot: () => {
      const { api, ctx } = live;
      if (!api || !ctx || api.draining) return null;
      const w = supervisor?.status();
      return {
        breakers: [{ name: breaker.backend, state: breaker.state }],
        worker: w ? { state: w.state, reason: w.reason, restarts: w.restarts } : null,
        ready: readiness(ctx, false).ready,
      };
    },
    externalUrl: () => live.url ?? `http://${config.host}:${config.port}`,
    onNotice: (n) => events.alert(n),
  }));
}

async function connectUpstream(url: string): Promise<UpstreamBackend> {
  try {
    return await UpstreamBackend.connect(url);
  } catch (e) {
    throw new InvalidInputError(
      [{ path: "upstream", message: `cannot reach ${url}: ${(e as Error).message}` }],
      "give the base URL of a running OpenAI-compatible server (it must answer GET /v1/models)",
    );
  }
}

function retryAfterEstimate(
  supervisor: WorkerSupervisor | null,
  breaker: BackendBreaker,
  admission: AdmissionControl,
): number {
  const status = supervisor?.status();
  // A worker on its way back: the restart delay plus about a second to boot and load.
  const restart = status && status.state !== "running" ? supervisor!.msUntilRestart() + 1000 : 0;
  return Math.max(breaker.msUntilHalfOpen(), restart, admission.estimateWaitMs());
}

function listen(api: ApiServer, config: ServiceConfig): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    api.server.once("error", reject);
    api.server.listen(config.port, config.host, () => {
      const { port } = api.server.address() as AddressInfo;
      resolveUrl(`http://${config.host}:${port}`);
    });
  });
}

async function writeStateFiles(stateDir: string, url: string): Promise<void> {
  await writeFile(join(stateDir, STATE_FILES.apiPid), `${process.pid}\n`);
  await writeFile(join(stateDir, STATE_FILES.ready), `${JSON.stringify({ url, pid: process.pid })}\n`);
}

interface Parts {
  readonly url: string;
  readonly config: ServiceConfig;
  readonly api: ApiServer;
  readonly metrics: ServiceMetrics;
  readonly supervisor: WorkerSupervisor | null;
  readonly stateDir: string;
  readonly clock: Runtime["clock"];
  readonly spool: SpoolBackend | null;
  readonly alerts: AlertMonitor;
  readonly events: ReliabilityEvents;
}

function running(p: Parts): RunningService {
  const eventSocket: EventSocket = attachEventSocket(
    p.api.server,
    p.events,
    p.config.events,
    p.clock,
    () => p.api.draining,
  );
  let closing: Promise<number> | undefined;
  const removeStateFiles = async (): Promise<void> => {
    await rm(join(p.stateDir, STATE_FILES.apiPid), { force: true });
    await rm(join(p.stateDir, STATE_FILES.ready), { force: true });
  };
  const drain = async (): Promise<number> => {
    // Readiness flips and new work is refused with 503 + Connection: close at once; the
    // listener stays open meanwhile so probes see the 503 instead of a refused connection.
    p.api.beginDrain();
    p.alerts.stop();
    // Subscribers are told at once (1001) rather than held open through the drain.
    p.events.stop();
    const socketsClosed = eventSocket.close();
    if (p.config.drain.delayMs > 0) await p.clock.sleep(p.config.drain.delayMs);
    const deadline = p.clock.monotonic() + p.config.drain.timeoutMs;
    while (p.api.inflight() > 0 && p.clock.monotonic() < deadline) await p.clock.sleep(20);
    const lost = p.api.inflight();
    if (lost > 0) p.metrics.requestsLost.inc(lost);
    const closed = new Promise<void>((r) => p.api.server.close(() => r()));
    p.api.server.closeAllConnections();
    await socketsClosed;
    await closed;
    await p.supervisor?.stop();
    p.spool?.close();
    // The last notifications get one webhook timeout, not every retry of every one.
    await p.alerts.flush(p.config.alerts.webhookTimeoutMs);
    await removeStateFiles();
    return lost;
  };
  return {
    url: p.url,
    config: p.config,
    api: p.api,
    metrics: p.metrics,
    supervisor: p.supervisor,
    alerts: p.alerts,
    events: p.events,
    close: () => (closing ??= drain()),
    async forceClose() {
      p.api.beginDrain();
      p.alerts.stop();
      p.events.stop();
      void eventSocket.close();
      p.api.server.closeAllConnections();
      p.api.server.close();
      await p.supervisor?.stop(true);
      p.spool?.close();
      await removeStateFiles();
    },
  };
}
