/**
 * Wires one model worker: spool reader (requests in), engine on the simulated device,
 * response writer (events out), heartbeat loop. `startWorker` returns once the worker reads
 * its spool; the preload continues in the background (phase "starting" until it settles).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../common/clock.js";
import { STATE_FILES } from "../contract.js";
import { readCotenants } from "../gpu/cotenants.js";
import { VramLedger } from "../gpu/ledger.js";
import { ModelDownloads } from "../gpu/download.js";
import { downloadNeeded, downloadPath, fetchToFile, sourceUrl } from "../gpu/fetch-model.js";
import { ModelManager } from "../gpu/models.js";
import { errorCodeOf } from "../ipc/error-codes.js";
import {
  FRAME_DECODE_REASONS,
  requestPayloadSchema,
  type CatalogModel,
  type RequestPayload,
  type WorkerConfig,
  type WorkerPhase,
  workerCatalog,
} from "../ipc/protocol.js";
import {
  SpoolReader,
  SpoolWriter,
  purgeSpoolDir,
  writeFileAtomic,
  type SpoolFrame,
  type SpoolRejection,
} from "../ipc/spool.js";
import { sha256File } from "../llama/model-cache.js";
import { settleWithin } from "../llama/open-deadline.js";
import type { RealGenerator } from "../llama/runtime.js";
import { Engine } from "./engine.js";
import { HeartbeatLoop } from "./heartbeat.js";
import { ResponseWriter } from "./response-writer.js";

export interface WorkerHandle {
  phase(): WorkerPhase;
  readonly engine: Engine;
  readonly models: ModelManager;
  /** Refuses new work, finishes in-flight work (at most shutdownTimeoutMs), stops. */
  shutdown(): Promise<void>;
}

const NAK_KINDS = new Set<string>([...FRAME_DECODE_REASONS, "unreadable", "stale"]);

// eslint-disable-next-line max-lines-per-function -- one place wires the worker; the engine choice added the lines over 80
export async function startWorker(
  stateDir: string,
  config: WorkerConfig,
  clock: Clock,
): Promise<WorkerHandle> {
  const dir = (p: string): string => join(stateDir, p);
  await prepareStateDir(stateDir);

  const { ledger, models, refreshCotenants, real, downloads } = buildDevice(stateDir, config, clock);
  const responses = new ResponseWriter(new SpoolWriter(dir(STATE_FILES.spoolResponses)), clock, (id, err) =>
    process.stderr.write(`worker: could not write response for ${id}: ${String(err)}\n`),
  );
  const engine = new Engine({
    clock,
    models,
    ledger,
    kvBytesPerToken: config.gpu.kvBytesPerToken,
    maxRunning: config.maxRunning,
    maxWaiting: config.maxWaiting,
    pressureThreshold: config.gpu.pressureThreshold,
    onKvExhausted: config.gpu.onKvExhausted,
    emit: (id, ev) => responses.send(id, ev),
    ...(real ? { real } : {}),
  });
  let phase: WorkerPhase = "starting";
  const framesRejected: Record<string, number> = {};
  // A model operation is acknowledged only after a heartbeat carrying its result is written:
  // the API reads model states from the heartbeat, so a GET right after a load must see it.
  const handlers = requestHandlers(engine, models, responses, () =>
    heartbeat.writeNow().catch((e: unknown) => {
      process.stderr.write(`worker: heartbeat write failed: ${String(e)}\n`);
    }),
  );

  const reader = new SpoolReader({
    dir: dir(STATE_FILES.spoolRequests),
    quarantineDir: dir(STATE_FILES.spoolQuarantine),
    schema: requestPayloadSchema,
    clock,
    sentAtMs: (p) => p.sentAtMs,
    pollIntervalMs: config.pollIntervalMs,
    staleFrameMs: config.staleFrameMs,
    maxPayloadBytes: config.maxPayloadBytes,
    onFrame: (f) => handlers.onFrame(f),
    onReject: (r) => {
      framesRejected[r.kind] = (framesRejected[r.kind] ?? 0) + 1;
      handlers.onReject(r);
    },
  });
  const parentPid = process.ppid;
  const heartbeat = new HeartbeatLoop(
    stateDir,
    clock,
    {
      pid: process.pid,
      startedAtMs: clock.now(),
      intervalMs: config.heartbeatIntervalMs,
      engine,
      ledger,
      models,
      downloads,
      kvBudgetBytes: () => Math.max(0, ledger.totalBytes - ledger.usedBytes + ledger.kvBytes),
      framesRejected,
      ...(real ? { real } : {}),
      phase: () => phase,
    },
    async () => {
      // An orphaned worker (API process killed) must not live on and hold the spool.
      if (process.ppid !== parentPid) process.kill(process.pid, "SIGTERM");
      await refreshCotenants();
    },
  );
  // The preload's simulated load time overlaps the rest of the start-up.
  // Ready is told at once, not at the next beat: the supervisor and the API read readiness from
  // the heartbeat, so waiting for the timer added up to heartbeatIntervalMs to every restart.
  void preload(models, config.preload).finally(() => {
    if (phase !== "starting") return;
    phase = "ready";
    heartbeat.writeNow().catch((e: unknown) => {
      process.stderr.write(`worker: heartbeat write failed: ${String(e)}\n`);
    });
  });
  await heartbeat.start();
  await reader.start();

  return {
    phase: () => phase,
    engine,
    models,
    async shutdown() {
      phase = "draining";
      await bounded(clock, engine.drain(), config.shutdownTimeoutMs);
      engine.abortAll("worker shut down before the request finished");
      await bounded(clock, responses.idle(), 1000);
      reader.close();
      heartbeat.stop();
      await heartbeat.writeNow().catch(() => undefined);
    },
  };
}

async function prepareStateDir(stateDir: string): Promise<void> {
  const dirs = [
    STATE_FILES.spoolRequests,
    STATE_FILES.spoolResponses,
    STATE_FILES.spoolQuarantine,
    STATE_FILES.gpuCotenants,
  ];
  for (const d of dirs) await mkdir(join(stateDir, d), { recursive: true });
  // Requests left by the previous worker's life were failed by the API when it died.
  const stale = await purgeSpoolDir(join(stateDir, STATE_FILES.spoolRequests));
  if (stale > 0)
    process.stderr.write(`worker: discarded ${stale} request frame(s) left from before the start\n`);
  await writeFileAtomic(stateDir, STATE_FILES.workerPid, `${process.pid}\n`);
}

/**
 * The simulated device: VRAM ledger fed by the co-tenant files, and the model manager on it;
 * models with a `source` are downloaded before their first load.
 */
export function buildDevice(stateDir: string, config: WorkerConfig, clock: Clock) {
  const cotenantDir = join(stateDir, STATE_FILES.gpuCotenants);
  const real = config.engine === "llama" ? startLlama(config, clock) : undefined;
  const downloads = new ModelDownloads({
    clock,
    retry: config.downloadRetry,
    needed: (spec) => downloadNeeded(downloadPath(stateDir, spec), spec.sha256),
    attempt: async (spec) => {
      if (spec.source === undefined) return;
      await fetchToFile(sourceUrl(spec.source, config.modelSourceUrl), downloadPath(stateDir, spec), {
        timeoutMs: config.downloadTimeoutMs,
        sha256: spec.sha256,
      });
    },
    log: (line) => process.stderr.write(`worker: ${line}\n`),
  });
  const ledger = new VramLedger({
    totalBytes: config.gpu.totalBytes,
    reservedBytes: config.gpu.reservedBytes,
  });
  const refreshCotenants = async (): Promise<void> => {
    ledger.setCotenantBytes((await readCotenants(cotenantDir)).bytes);
  };
  const models = new ModelManager({
    clock,
    ledger,
    catalog: withDownloadPaths(stateDir, workerCatalog(config), config.engine),
    minKvBytes: config.gpu.minKvBytes,
    defaultKeepAliveMs: config.defaultKeepAliveMs,
    temporaryKeepAliveMs: config.temporaryKeepAliveMs,
    primary: config.preload,
    gpuModelsMax: config.gpuModelsMax,
    loadRetry: config.loadRetry,
    downloads,
    refreshCotenants,
    // engine: llama: the real load is the last step of the service's load, so a file llama.cpp
    // refuses leaves the model failed(reason) and the service's policies take over.
    ...(real
      ? {
          verify: (spec: CatalogModel) => real.load(spec),
          release: (spec: CatalogModel) => real.release(spec),
          checkFile: checkModelFile,
        }
      : {}),
  });
  return { ledger, models, refreshCotenants, real, downloads };
}

/** engine: llama: a model with a source and no ggufPath is loaded from where it is downloaded. */
function withDownloadPaths(stateDir: string, catalog: CatalogModel[], engine: WorkerConfig["engine"]) {
  if (engine !== "llama") return catalog;
  return catalog.map((m) =>
    m.source !== undefined && m.ggufPath === undefined ? { ...m, ggufPath: downloadPath(stateDir, m) } : m,
  );
}

/** engine: llama: the explicit verification compares the GGUF file with its SHA-256. */
async function checkModelFile(spec: CatalogModel): Promise<string | undefined> {
  if (spec.ggufPath === undefined) return `model '${spec.name}' has no ggufPath for engine llama`;
  if (spec.sha256 === undefined) return undefined;
  const actual = await sha256File(spec.ggufPath).catch(
    (e: unknown) => `unreadable (${(e as Error).message})`,
  );
  return actual === spec.sha256
    ? undefined
    : `file ${spec.ggufPath} does not match its SHA-256 (found ${actual.slice(0, 16)}…)`;
}

/**
 * The real engine, opened in the background: node-llama-cpp tests its binary in a child process
 * first (seconds on a busy machine), and the heartbeat must not wait for that. Loads wait for it;
 * a missing package or binary is fatal with one line naming the install command.
 */
function startLlama(config: WorkerConfig, clock: Clock): RealGenerator {
  const opening = import("../llama/runtime.js").then(({ LlamaRuntime }) =>
    LlamaRuntime.create({
      ...config.llama,
      onLoadHung: (model, ms) => {
        process.stderr.write(
          `worker: load watchdog: ${model} did not load within ${ms} ms; exiting so the supervisor restarts the worker\n`,
        );
        // Not process.exit: a load stuck in a blocking read (a FIFO, a stalled network file
        // system) holds a libuv thread, and Node's exit waits for its threads: the worker would
        // hang in exit until the supervisor's heartbeat check killed it as hung (measured with
        // model-load-hang). SIGKILL ends it at once; the supervisor restarts it as a crash.
        process.kill(process.pid, "SIGKILL");
      },
    }),
  );
  const openTimeoutMs = config.llama.openTimeoutMs;
  const opened = settleWithin(opening, openTimeoutMs, clock, () => {
    process.stderr.write(
      `worker: engine llama: node-llama-cpp did not open within ${openTimeoutMs} ms (worker.llama.openTimeoutMs; its binary check hung); exiting so the supervisor restarts the worker\n`,
    );
    // SIGKILL, as the load watchdog does: the binary check may hold a libuv thread exit would wait for.
    process.kill(process.pid, "SIGKILL");
  });
  opened.catch((e: unknown) => {
    process.stderr.write(`worker: ${(e as Error).message}\n`);
    process.exit(1);
  });
  let runtime: RealGenerator | undefined;
  void opened.then((r) => (runtime = r));
  return {
    load: async (spec) => (await opened).load(spec),
    generate: async (spec, request, signal, onToken) =>
      (await opened).generate(spec, request, signal, onToken),
    release: async (spec) => (await opened).release(spec),
    stats: () =>
      runtime?.stats() ?? { loadSeconds: {}, verifySeconds: {}, kvCacheUsage: 0, contextTokens: 0 },
  };
}

async function preload(models: ModelManager, name: string | null): Promise<void> {
  if (name === null) return;
  try {
    await models.load(name);
  } catch (e) {
    // The model shows as failed(reason) in the heartbeat; requests retry the load.
    process.stderr.write(`worker: preload of ${name} failed: ${(e as Error).message}\n`);
  }
}

function requestHandlers(
  engine: Engine,
  models: ModelManager,
  responses: ResponseWriter,
  publishModelStates: () => Promise<void>,
) {
  const accepted = (id: string): void => responses.send(id, { type: "accepted", workerPid: process.pid });
  const modelOp = (
    id: string,
    op: "load" | "unload" | "verify",
    model: string,
    run: () => Promise<unknown>,
  ): void => {
    accepted(id);
    run().then(
      async () => {
        await publishModelStates();
        responses.send(id, { type: "ack", op, model, state: models.state(model) });
      },
      (err: unknown) =>
        responses.send(id, { type: "error", code: errorCodeOf(err), message: (err as Error).message }),
    );
  };
  return {
    onFrame(f: SpoolFrame<RequestPayload>): undefined {
      const p = f.payload;
      switch (p.type) {
        case "generate":
          accepted(f.requestId);
          engine.submit(f.requestId, p.request);
          return;
        case "cancel":
          engine.cancel(f.requestId);
          responses.forget(f.requestId);
          return;
        case "load":
          modelOp(f.requestId, "load", p.model, () => models.load(p.model, p.keepAliveMs));
          return;
        case "unload":
          modelOp(f.requestId, "unload", p.model, () => models.unload(p.model));
          return;
        case "verify":
          modelOp(f.requestId, "verify", p.model, () => models.verifyModel(p.model));
          return;
        default: {
          const never: never = p;
          return never;
        }
      }
    },
    onReject(r: SpoolRejection): void {
      if (r.requestId === undefined || !NAK_KINDS.has(r.kind)) return;
      // NAK: fail that request at once rather than let the client wait for its deadline.
      engine.cancel(r.requestId);
      responses.send(r.requestId, {
        type: "error",
        code: "ipc_corrupt_frame",
        message: `request frame rejected by the worker: ${r.kind} (${r.detail})`,
      });
    },
  };
}

/** Waits for `p`, but at most `ms`. */
async function bounded(clock: Clock, p: Promise<void>, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([p, clock.sleep(ms, timer.signal).catch(() => undefined)]);
  timer.abort();
}
