/**
 * The API <-> model-worker wire contract: frame layout, payload schemas, the heartbeat file
 * and how the API process spawns the worker. Both processes import only this module (plus
 * frame.ts/spool.ts) to talk, so everything that crosses the process boundary is here.
 *
 * Frame (one file in spool/requests or spool/responses; big-endian integers):
 *   0   magic      4 bytes  "FLTF"
 *   4   version    uint16   FRAME_VERSION
 *   6   seq        uint32   per-writer counter (dedupe key together with requestId)
 *   10  idLength   uint8    1..MAX_REQUEST_ID_BYTES
 *   11  requestId  idLength bytes, ASCII [A-Za-z0-9._:~-]
 *   11+n length    uint32   payload bytes (<= maxPayloadBytes, else "oversized")
 *   15+n crc32     uint32   over bytes 4..15+n (version..length) then the payload, so a
 *                           flipped bit in seq or requestId is caught too, not only in the body
 *   19+n payload   JSON (UTF-8), validated with the zod schemas below
 *
 * File names are `<seq 10 digits>-<requestId>.frame`; the name repeats the requestId so that a
 * frame too damaged to decode can still fail its own request at once (a NAK) instead of leaving
 * it to time out. Writers create `.tmp-*` files in spool/tmp/<requests|responses> (same file
 * system, not watched) and rename them into place; readers treat a `.tmp-*` file found in a
 * spool directory itself as a writer's temp file too.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { STATE_FILES } from "../contract.js";

export const FRAME_MAGIC = "FLTF";
export const FRAME_VERSION = 1;
export const FRAME_HEADER_FIXED_BYTES = 19; // header bytes besides the requestId
export const MAX_REQUEST_ID_BYTES = 128;
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
export const FRAME_FILE_SUFFIX = ".frame";
export const TMP_FILE_PREFIX = ".tmp-";
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:~-]+$/;

/** Why frame.ts rejected a byte buffer. */
export const FRAME_DECODE_REASONS = [
  "empty",
  "truncated",
  "bad-magic",
  "bad-version",
  "bad-length",
  "oversized",
  "crc-mismatch",
  "bad-json",
  "bad-schema",
] as const;
export type FrameDecodeReason = (typeof FRAME_DECODE_REASONS)[number];

/**
 * Every kind of bad spool file, i.e. the `kind` label of faultline_ipc_frames_corrupt_total.
 * Beyond decode failures: `stale` (older than the stale bound), `duplicate` (requestId+seq
 * already consumed), `unreadable` (EACCES and the like), `partial` (an abandoned temp file of a
 * writer that died mid-write), `orphan` (a response for a request nobody waits for), `deleted`
 * (a frame that never arrived: a request frame gone before the worker read it, or a missing
 * response part).
 */
export const SPOOL_REJECT_KINDS = [
  ...FRAME_DECODE_REASONS,
  "stale",
  "duplicate",
  "unreadable",
  "partial",
  "orphan",
  "deleted",
] as const;
export type SpoolRejectKind = (typeof SPOOL_REJECT_KINDS)[number];

// ---------------------------------------------------------------------------------------------
// Payloads

export const generationRequestSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(["chat", "completion", "embedding"]),
  model: z.string().min(1),
  prompt: z.string(),
  inputs: z.array(z.string()).readonly().optional(),
  maxTokens: z.number().int().nonnegative(),
  stream: z.boolean(),
  keepAliveMs: z.number().int().optional(),
  deadlineAtMs: z.number(),
});

/** API -> worker. `sentAtMs` lets the reader drop frames older than the stale bound. */
export const requestPayloadSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("generate"), sentAtMs: z.number(), request: generationRequestSchema }),
  z.object({ type: z.literal("cancel"), sentAtMs: z.number(), reason: z.string().optional() }),
  z.object({
    type: z.literal("load"),
    sentAtMs: z.number(),
    model: z.string().min(1),
    keepAliveMs: z.number().int().optional(),
  }),
  z.object({ type: z.literal("unload"), sentAtMs: z.number(), model: z.string().min(1) }),
  /** Checks a catalogue model without loading it (write-up 004's verification): acked with its state. */
  z.object({ type: z.literal("verify"), sentAtMs: z.number(), model: z.string().min(1) }),
]);
export type RequestPayload = z.infer<typeof requestPayloadSchema>;

/** Error codes the worker sends; the client maps each to a BackendError class. */
export const WORKER_ERROR_CODES = [
  "gpu_out_of_memory",
  "model_load_failed",
  "model_download_failed",
  "model_not_found",
  "backend_timeout",
  "worker_unavailable", // draining, queue full, shutting down
  "ipc_corrupt_frame", // the worker rejected this request's frame (a NAK)
  "cancelled",
  "internal",
] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});

export const MODEL_STATES = ["unloaded", "loading", "ready", "draining", "unloading", "failed"] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export const responseEventSchema = z.discriminatedUnion("type", [
  /** First event of every request: the worker has read the request frame. */
  z.object({ type: z.literal("accepted"), workerPid: z.number().int() }),
  z.object({ type: z.literal("token"), index: z.number().int().nonnegative(), text: z.string() }),
  z.object({ type: z.literal("done"), finishReason: z.enum(["stop", "length"]), usage: usageSchema }),
  z.object({ type: z.literal("embedding"), vectors: z.array(z.array(z.number())), usage: usageSchema }),
  z.object({ type: z.literal("error"), code: z.enum(WORKER_ERROR_CODES), message: z.string() }),
  /** Answer to a load/unload/verify frame. */
  z.object({
    type: z.literal("ack"),
    op: z.enum(["load", "unload", "verify"]),
    model: z.string(),
    state: z.enum(MODEL_STATES),
  }),
]);
export type ResponseEvent = z.infer<typeof responseEventSchema>;

/**
 * Worker -> API. The worker coalesces events produced while its previous write for the same
 * request was in flight; `part` numbers a request's frames 0,1,2,... so the reader can put
 * reordered frames back in order and notice a missing one.
 */
export const responsePayloadSchema = z.object({
  sentAtMs: z.number(),
  part: z.number().int().nonnegative(),
  events: z.array(responseEventSchema).min(1),
});
export type ResponsePayload = z.infer<typeof responsePayloadSchema>;

// ---------------------------------------------------------------------------------------------
// Heartbeat (STATE_FILES.heartbeat, plain JSON rewritten atomically every heartbeatIntervalMs)

export const WORKER_PHASES = ["starting", "ready", "draining"] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

export const modelStatusSchema = z.object({
  name: z.string(),
  device: z.enum(["gpu", "cpu"]),
  state: z.enum(MODEL_STATES),
  reason: z.string().optional(),
  sizeBytes: z.number().nonnegative(),
  /** When the idle TTL will unload it (epoch ms); absent while in use, pinned or not loaded. */
  expiresAtMs: z.number().optional(),
  refCount: z.number().int().nonnegative(),
});
export type ModelStatus = z.infer<typeof modelStatusSchema>;

export const heartbeatSchema = z.object({
  seq: z.number().int().nonnegative(),
  pid: z.number().int(),
  phase: z.enum(WORKER_PHASES),
  startedAtMs: z.number(),
  atMs: z.number(),
  intervalMs: z.number().positive(),
  running: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  /** Epoch ms of the last token produced by any request; null before the first. */
  lastTokenAtMs: z.number().nullable(),
  vram: z.object({
    usedBytes: z.number().nonnegative(),
    totalBytes: z.number().nonnegative(),
    cotenantBytes: z.number().nonnegative(),
    reservedBytes: z.number().nonnegative(),
    weightsBytes: z.number().nonnegative(),
    kvBytes: z.number().nonnegative(),
  }),
  /** Fraction 0..1 of the KV budget in use (vllm:kv_cache_usage_perc); engine llama: of its KV sequences. */
  kvUsage: z.number().nonnegative(),
  /** engine llama: seconds the last real load of each model took (hash check + llama.cpp load + context). */
  loadSeconds: z.record(z.string(), z.number().nonnegative()).default({}),
  /** engine llama: seconds the SHA-256 check of each model's file took in its last load (part of loadSeconds). */
  verifySeconds: z.record(z.string(), z.number().nonnegative()).default({}),
  models: z.array(modelStatusSchema),
  /** GPU models resident now, and the most ever resident at once in this worker (exact: counted at every model state change). */
  gpuModels: z
    .object({ resident: z.number().int().nonnegative(), peak: z.number().int().nonnegative() })
    .default({ resident: 0, peak: 0 }),
  /** Retried load attempts by model in this worker: how many loaded, how many failed, the last measured wait (ms). */
  loadRetries: z
    .record(
      z.string(),
      z.object({
        loaded: z.number().int().nonnegative(),
        failed: z.number().int().nonnegative(),
        lastWaitMs: z.number().nonnegative(),
      }),
    )
    .default({}),
  /** Model downloads by model in this worker (gpu/download.ts): attempts, runs, measured waits (ms) before attempt 2, 3, ... */
  downloads: z
    .record(
      z.string(),
      z.object({
        attemptsOk: z.number().int().nonnegative(),
        attemptsFailed: z.number().int().nonnegative(),
        runsOk: z.number().int().nonnegative(),
        runsFailed: z.number().int().nonnegative(),
        waitsMs: z.array(z.number().nonnegative()),
      }),
    )
    .default({}),
  /** Wire ids of the requests the worker holds (running or waiting), so the client can tell a
   * request whose last frame was lost from one still in progress. Capped at 512. */
  requestIds: z.array(z.string()).default([]),
  counters: z.object({
    promptTokens: z.number().int().nonnegative(),
    generationTokens: z.number().int().nonnegative(),
    preemptions: z.number().int().nonnegative(),
    requestsFinished: z.number().int().nonnegative(),
    oomErrors: z.number().int().nonnegative(),
    /** Request frames the worker quarantined, by kind. */
    framesRejected: z.record(z.string(), z.number().int().nonnegative()),
  }),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export type HeartbeatRead =
  | { readonly ok: true; readonly heartbeat: Heartbeat; readonly ageMs: number }
  | {
      readonly ok: false;
      readonly reason: "missing" | "unreadable" | "bad-json" | "bad-schema";
      readonly detail: string;
    };

/** Reads and validates the worker heartbeat; never throws. `nowMs` is epoch ms (clock.now()). */
export async function readHeartbeat(stateDir: string, nowMs: number = Date.now()): Promise<HeartbeatRead> {
  let text: string;
  try {
    text = await readFile(join(stateDir, STATE_FILES.heartbeat), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === "ENOENT" ? "missing" : "unreadable", detail: String(code ?? e) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: "bad-json", detail: (e as Error).message };
  }
  const parsed = heartbeatSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "bad-schema", detail: parsed.error.message };
  return { ok: true, heartbeat: parsed.data, ageMs: Math.max(0, nowMs - parsed.data.atMs) };
}

// ---------------------------------------------------------------------------------------------
// Worker configuration and spawn contract

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const catalogModelSchema = z.object({
  name: z.string().min(1),
  device: z.enum(["gpu", "cpu"]),
  /** What the model does: text generation or embeddings. */
  task: z.enum(["generate", "embed"]),
  sizeBytes: z.number().int().nonnegative(),
  loadMs: z.number().nonnegative(),
  /** Prefill time: fixed part plus per prompt token. */
  prefillMs: z.number().nonnegative(),
  prefillMsPerToken: z.number().nonnegative(),
  /** Inter-token latency while decoding. */
  msPerToken: z.number().nonnegative(),
  embeddingDim: z.number().int().positive().default(16),
  contextTokens: z.number().int().positive().default(4096),
  /**
   * engine: sim: how long verifying the model takes (POST /v1/models/{id}/verify), standing in
   * for the real engine's SHA-256 check of the file. Absent: 0 (the check is instant).
   */
  verifyMs: z.number().nonnegative().optional(),
  /** engine: llama: the GGUF file llama.cpp loads for this model (faultline models generate writes one). */
  ggufPath: z.string().min(1).optional(),
  /** engine: llama: the file's SHA-256, checked before each load (GGUF itself has no checksum). */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * Where the worker downloads the model from before its first load (gpu/download.ts, write-up
   * 002's download retry): an http(s) URL, or a path ("/...") relative to worker.modelSourceUrl.
   * engine: llama: into ggufPath (checked against sha256); sim: a blob under
   * <stateDir>/models/downloads/ (checked against sha256 when given). Absent: nothing to fetch.
   */
  source: z
    .string()
    .min(1)
    .refine((s) => s.startsWith("/") || /^https?:\/\/[^/]/i.test(s), {
      error:
        'expected an http:// or https:// URL, or a path starting with "/" (relative to worker.modelSourceUrl)',
    })
    .optional(),
  /**
   * engine: llama: generate this model at service start (seeded GGUF under <stateDir>/models,
   * cached by content hash) and fill ggufPath and sha256 from it. Models are never committed.
   */
  generate: z
    .strictObject({
      size: z.enum(["tiny", "small", "medium"]),
      seed: z.number().int().min(0).max(0xffffffff).default(1),
    })
    .optional(),
});
export type CatalogModel = z.infer<typeof catalogModelSchema>;

export const DEFAULT_CATALOG: readonly CatalogModel[] = [
  {
    name: "sim-utility",
    device: "gpu",
    task: "generate",
    sizeBytes: 2 * GiB,
    loadMs: 200,
    prefillMs: 20,
    prefillMsPerToken: 0.1,
    msPerToken: 10,
    embeddingDim: 16,
    contextTokens: 4096,
  },
  {
    name: "sim-reasoning",
    device: "gpu",
    task: "generate",
    sizeBytes: 4 * GiB,
    loadMs: 400,
    prefillMs: 40,
    prefillMsPerToken: 0.2,
    msPerToken: 20,
    embeddingDim: 16,
    contextTokens: 8192,
  },
  {
    name: "sim-embed",
    device: "cpu",
    task: "embed",
    sizeBytes: 256 * MiB,
    loadMs: 50,
    prefillMs: 5,
    prefillMsPerToken: 0.05,
    msPerToken: 0,
    embeddingDim: 16,
    contextTokens: 512,
  },
];

export const gpuConfigSchema = z.object({
  totalBytes: z
    .number()
    .int()
    .positive()
    .default(8 * GiB),
  /** Driver/runtime overhead never available to models (OLLAMA_GPU_OVERHEAD). */
  reservedBytes: z
    .number()
    .int()
    .nonnegative()
    .default(512 * MiB),
  /** KV cache bytes per token of a running request. */
  kvBytesPerToken: z
    .number()
    .int()
    .nonnegative()
    .default(1 * MiB),
  /** A load must leave at least this much free for KV (weights + minKv <= free). */
  minKvBytes: z
    .number()
    .int()
    .nonnegative()
    .default(256 * MiB),
  /** Above this used/total fraction the worker cleans up: evict idle, shrink, refuse. */
  pressureThreshold: z.number().gt(0).max(1).default(0.85),
  /**
   * When a running request needs KV cache and none is free: "preempt" the newest request (its
   * KV is freed; it resumes when memory frees, paying its prefill again, as vLLM's recompute
   * preemption does) or "fail" the request that asked with a CUDA OOM.
   */
  onKvExhausted: z.enum(["preempt", "fail"]).default("preempt"),
});
export type GpuConfig = z.infer<typeof gpuConfigSchema>;

export const workerConfigSchema = z
  .object({
    heartbeatIntervalMs: z.number().int().positive().default(100),
    /** Spool poll period, the fallback for fs.watch events that never come. */
    pollIntervalMs: z.number().int().positive().default(25),
    /** Frames older than this are rejected as stale. */
    staleFrameMs: z.number().int().positive().default(30_000),
    maxRunning: z.number().int().positive().default(8),
    maxWaiting: z.number().int().nonnegative().default(64),
    defaultKeepAliveMs: z.number().int().default(600_000),
    /** TTL of a model loaded only to serve a request for a model that was not resident. */
    temporaryKeepAliveMs: z.number().int().default(300_000),
    /**
     * Most GPU models resident at once (write-up 000: "only one GPU model loaded at a time"):
     * loading one more first drains and unloads the least recently used. null: as many as VRAM
     * allows (a load that does not fit fails with a CUDA OOM). Default 1, what the worker always did.
     */
    gpuModelsMax: z.number().int().positive().nullable().default(1),
    /**
     * Retry of a failed model load (write-up 002's `model_loading`): up to maxAttempts attempts
     * in all; after failed attempt n the next starts min(maxDelayMs, initialDelayMs x
     * backoffFactor^(n-1)) later, the model staying "loading" meanwhile. Default 1 attempt (off).
     */
    loadRetry: z
      .strictObject({
        maxAttempts: z.number().int().positive().max(10).default(1),
        initialDelayMs: z.number().int().nonnegative().default(1000),
        backoffFactor: z.number().min(1).max(10).default(2),
        maxDelayMs: z.number().int().nonnegative().default(30_000),
      })
      .prefault({}),
    /** Base URL for catalogue sources given as a path ("/..."); null = every source is a full URL. */
    modelSourceUrl: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .default(null),
    /** One download attempt that has not finished within this fails (a stalled source). */
    downloadTimeoutMs: z.number().int().positive().default(600_000),
    /**
     * Retry of a failed model download (write-up 002's `model_download`): up to maxAttempts
     * attempts in all, after failed attempt n the next starts min(maxDelayMs, initialDelayMs x
     * backoffFactor^(n-1)) later. Default 002's numbers: 3 attempts, 5 s, factor 2, at most 60 s.
     */
    downloadRetry: z
      .strictObject({
        maxAttempts: z.number().int().positive().max(10).default(3),
        initialDelayMs: z.number().int().nonnegative().default(5000),
        backoffFactor: z.number().min(1).max(10).default(2),
        maxDelayMs: z.number().int().nonnegative().default(60_000),
      })
      .prefault({}),
    /** Load this model at start so a fresh worker is ready without a first-request cold load. */
    preload: z.string().nullable().default("sim-utility"),
    /** SIGTERM: finish in-flight work for at most this long, then exit 0. */
    shutdownTimeoutMs: z.number().int().nonnegative().default(30_000),
    maxPayloadBytes: z.number().int().positive().default(DEFAULT_MAX_PAYLOAD_BYTES),
    gpu: gpuConfigSchema.prefault({}),
    /** sim: the deterministic simulation; llama: real inference through node-llama-cpp (optional dependency). */
    engine: z.enum(["sim", "llama"]).default("sim"),
    llama: z
      .object({
        threads: z.number().int().positive().default(1),
        /** Requests run in parallel in one llama.cpp context (each holds a sequence of its KV cache). */
        sequences: z.number().int().positive().max(64).default(2),
        /** A real load that takes longer is hung: the worker exits and the supervisor restarts it. */
        loadTimeoutMs: z.number().int().positive().default(30_000),
        /**
         * Opening node-llama-cpp (its binary check in a child process: about 0.4 s, seconds on a
         * busy machine) that takes longer is hung: the worker exits and the supervisor restarts it.
         */
        openTimeoutMs: z.number().int().positive().default(60_000),
        /**
         * false: llama.cpp reads the weights into its own memory instead of mapping the file, so a
         * load is charged in full to the worker's memory (a memory cgroup limit below the model's
         * size OOM-kills it mid-load; mapped pages already in the page cache are charged elsewhere).
         */
        mmap: z.boolean().default(true),
        /**
         * cuda: node-llama-cpp's prebuilt CUDA binary, every layer on the GPU. Never run by this
         * project (no GPU here); without a usable CUDA device the worker exits with the reason.
         */
        gpu: z.enum(["off", "cuda"]).default("off"),
      })
      .strict()
      .prefault({}),
    models: z
      .array(catalogModelSchema)
      .min(1)
      .default(() => DEFAULT_CATALOG.map((m) => ({ ...m }))),
    /**
     * Cheap simulated GPU models added after `models` (sim-gen-000, sim-gen-001, ...), so a
     * scenario can run with a large catalogue (write-up 004: "Handle 100 models efficiently")
     * without listing each. Default 0: the catalogue is `models` alone.
     */
    generatedModels: z.number().int().nonnegative().max(1000).default(0),
  })
  .strict();
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
/** What callers may pass: every field optional, defaults filled in by the worker. */
export type WorkerConfigInput = z.input<typeof workerConfigSchema>;

/** Name of generated model `i` (worker.generatedModels): sim-gen-000, sim-gen-001, ... */
export function generatedModelName(i: number): string {
  return `sim-gen-${String(i).padStart(3, "0")}`;
}

/**
 * A generated model: small enough that a few dozen fit the default 8 GiB device beside the
 * default catalogue, loading and verifying in tens of ms (a small file on a local disk).
 */
const GENERATED_MODEL: Omit<CatalogModel, "name"> = {
  device: "gpu",
  task: "generate",
  sizeBytes: 64 * MiB,
  loadMs: 50,
  verifyMs: 20,
  prefillMs: 5,
  prefillMsPerToken: 0.05,
  msPerToken: 5,
  embeddingDim: 16,
  contextTokens: 2048,
};

/** The worker's whole catalogue: `models`, then the `generatedModels` sim-gen-NNN models. */
export function workerCatalog(config: Pick<WorkerConfig, "models" | "generatedModels">): CatalogModel[] {
  const generated = Array.from({ length: config.generatedModels }, (_, i) => ({
    ...GENERATED_MODEL,
    name: generatedModelName(i),
  }));
  return [...config.models, ...generated];
}

export const DEFAULT_WORKER_CONFIG: WorkerConfig = workerConfigSchema.parse({});

/**
 * The worker entry. Spawn it with
 *   spawnModule(WORKER_ENTRY, workerArgs(stateDir, config), { stdio: ["ignore", "inherit", "inherit"] })
 * It writes STATE_FILES.workerPid at start, heartbeat.json every heartbeatIntervalMs (phase
 * "starting" until the preload is ready), exits 0 after SIGTERM once in-flight work is done
 * (bounded by shutdownTimeoutMs), and exits 2 on a bad command line or config (message on stderr).
 */
export const WORKER_ENTRY = new URL("../worker/main.js", import.meta.url);

export function workerArgs(stateDir: string, config: WorkerConfigInput = {}): string[] {
  return ["--state-dir", stateDir, "--config", JSON.stringify(config)];
}
