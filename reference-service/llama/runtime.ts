/**
 * The real engine: llama.cpp through node-llama-cpp, in the worker process. It holds at most
 * one model (loading another disposes the resident one; the service's ModelManager decides
 * when), checks the file's SHA-256 before loading when the catalog names one (GGUF has no
 * checksum, so some corruptions load and generate silently), and bounds a load by a watchdog.
 * node-llama-cpp is an optional dependency, imported only here and only when engine: llama.
 */
import type * as NodeLlamaCppModule from "node-llama-cpp";
import { ModelLoadError } from "../backend-errors.js";
import type { FinishReason, GenerationRequest, Usage } from "../backend.js";
import type { CatalogModel } from "../ipc/protocol.js";
import { sha256File } from "./model-cache.js";

export const INSTALL_HINT = "npm i -E -O node-llama-cpp@3.21.1";

export interface LlamaOptions {
  readonly threads: number;
  /** Parallel sequences in one context: requests beyond this wait for a free one. */
  readonly sequences: number;
  /** A load that takes longer is treated as hung: `onLoadHung` is called (the worker exits). */
  readonly loadTimeoutMs: number;
  /** false: read the weights into memory instead of mapping the file (default true). */
  readonly mmap?: boolean;
  /** cuda: the CUDA build with every layer offloaded (never run here: no GPU on this project's machines). */
  readonly gpu?: "off" | "cuda";
  readonly onLoadHung: (model: string, ms: number) => void;
}

/** What the scheduler needs from a real engine (the simulation does not use it). */
export interface RealGenerator {
  /** Loads `spec.ggufPath`; returns a failure reason, or undefined once usable. */
  load(spec: CatalogModel): Promise<string | undefined>;
  generate(
    spec: CatalogModel,
    request: GenerationRequest,
    signal: AbortSignal,
    onToken: (text: string) => void,
  ): Promise<{ finishReason: FinishReason; usage: Usage }>;
  /** Frees the model if it is the resident one. */
  release(spec: CatalogModel): Promise<void>;
  stats(): LlamaStats;
}

export interface LlamaStats {
  /** Seconds the last load of each model took (hash check, llama.cpp load, context). */
  loadSeconds: Readonly<Record<string, number>>;
  /** Seconds the SHA-256 check took in the last load of each model whose catalog names a hash. */
  verifySeconds: Readonly<Record<string, number>>;
  /** Share of the context's sequences (each a slice of the KV cache) held by requests. */
  kvCacheUsage: number;
  contextTokens: number;
}

// The package's types, imported as types only so the project builds without it installed.
type NodeLlamaCpp = typeof NodeLlamaCppModule;
type Llama = Awaited<ReturnType<NodeLlamaCpp["getLlama"]>>;
type LlamaModel = Awaited<ReturnType<Llama["loadModel"]>>;
type LlamaContext = Awaited<ReturnType<LlamaModel["createContext"]>>;
type LlamaSequence = ReturnType<LlamaContext["getSequence"]>;

/** Imports the package and its prebuilt CPU binary; never builds and never downloads. */
export async function openLlama(threads: number, gpu: "off" | "cuda" = "off"): Promise<Llama> {
  let mod: NodeLlamaCpp;
  try {
    mod = await import("node-llama-cpp");
  } catch (e) {
    throw new Error(`engine llama needs node-llama-cpp, which is not installed: run ${INSTALL_HINT}`, {
      cause: e,
    });
  }
  try {
    return await mod.getLlama({
      gpu: gpu === "cuda" ? "cuda" : false,
      build: "never",
      skipDownload: true,
      usePrebuiltBinaries: true,
      maxThreads: threads,
      logLevel: mod.LlamaLogLevel.error,
      logger: (_level, message) => process.stderr.write(`worker: llama.cpp: ${message.trimEnd()}\n`),
    });
  } catch (e) {
    // Without a usable CUDA device the CUDA build refuses to load: reinstalling would not help.
    const fix =
      gpu === "cuda" ? "it needs a CUDA device and driver; set worker.llama.gpu: off" : `run ${INSTALL_HINT}`;
    throw new Error(
      `engine llama: node-llama-cpp's prebuilt ${gpu === "cuda" ? "CUDA " : ""}binary did not load (${(e as Error).message.split("\n")[0]}): ${fix}`,
      { cause: e },
    );
  }
}

interface Resident {
  readonly name: string;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly free: LlamaSequence[];
}

export class LlamaRuntime implements RealGenerator {
  private resident: Resident | null = null;
  private readonly loadSeconds: Record<string, number> = {};
  private readonly verifySeconds: Record<string, number> = {};
  private readonly waiters: (() => void)[] = [];
  private inUse = 0;

  constructor(
    private readonly llama: Llama,
    private readonly o: LlamaOptions,
  ) {}

  static async create(o: LlamaOptions): Promise<LlamaRuntime> {
    return new LlamaRuntime(await openLlama(o.threads, o.gpu), o);
  }

  stats(): LlamaStats {
    const ctx = this.resident?.context;
    return {
      loadSeconds: this.loadSeconds,
      verifySeconds: this.verifySeconds,
      kvCacheUsage: ctx ? this.inUse / Math.max(1, this.o.sequences) : 0,
      contextTokens: ctx?.contextSize ?? 0,
    };
  }

  async load(spec: CatalogModel): Promise<string | undefined> {
    if (this.resident?.name === spec.name) return undefined;
    const path = spec.ggufPath;
    if (path === undefined) return `model '${spec.name}' has no ggufPath for engine llama`;
    await this.unload();
    const started = performance.now();
    const watchdog = setTimeout(
      () => this.o.onLoadHung(spec.name, this.o.loadTimeoutMs),
      this.o.loadTimeoutMs,
    );
    try {
      if (spec.sha256 !== undefined) {
        const actual = await sha256File(path).catch((e: unknown) => `unreadable (${(e as Error).message})`);
        this.verifySeconds[spec.name] = (performance.now() - started) / 1000;
        if (actual !== spec.sha256)
          return `file ${path} does not match its SHA-256 (found ${actual.slice(0, 16)}…)`;
      }
      const model = await this.llama.loadModel({
        modelPath: path,
        useMmap: this.o.mmap ?? true,
        ...(this.o.gpu === "cuda" ? { gpuLayers: "max" as const } : {}),
      });
      const context = await model.createContext({
        contextSize: Math.min(spec.contextTokens, model.trainContextSize),
        sequences: this.o.sequences,
        threads: this.o.threads,
      });
      const free: LlamaSequence[] = [];
      for (let i = 0; i < this.o.sequences; i++) free.push(context.getSequence());
      this.resident = { name: spec.name, model, context, free };
      this.loadSeconds[spec.name] = (performance.now() - started) / 1000;
      return undefined;
    } catch (e) {
      return `llama.cpp could not load ${path}: ${(e as Error).message}`;
    } finally {
      clearTimeout(watchdog);
    }
  }

  async release(spec: CatalogModel): Promise<void> {
    if (this.resident?.name === spec.name) await this.unload();
  }

  async unload(): Promise<void> {
    const r = this.resident;
    this.resident = null;
    if (!r) return;
    await r.context.dispose();
    await r.model.dispose();
  }

  private async sequence(signal: AbortSignal): Promise<{ r: Resident; seq: LlamaSequence }> {
    for (;;) {
      signal.throwIfAborted();
      const r = this.resident;
      if (!r) throw new ModelLoadError("no model is loaded in llama.cpp");
      const seq = r.free.pop();
      if (seq) {
        this.inUse++;
        return { r, seq };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async generate(
    spec: CatalogModel,
    request: GenerationRequest,
    signal: AbortSignal,
    onToken: (text: string) => void,
  ): Promise<{ finishReason: FinishReason; usage: Usage }> {
    const reason = await this.load(spec);
    if (reason !== undefined) throw new ModelLoadError(reason);
    const { r, seq } = await this.sequence(signal);
    try {
      const prompt = r.model.tokenize(request.prompt);
      const room = seq.contextSize - prompt.length;
      if (room <= 0)
        throw new ModelLoadError(
          `prompt is ${prompt.length} tokens; the context holds ${seq.contextSize} (shorten the prompt)`,
        );
      const limit = Math.min(request.maxTokens, room);
      const eos = r.model.tokens.eos;
      let n = 0;
      let finishReason: FinishReason = "length";
      for await (const token of seq.evaluate(prompt, { temperature: 0 })) {
        signal.throwIfAborted();
        if (token === eos) {
          finishReason = "stop";
          break;
        }
        onToken(r.model.detokenize([token]));
        if (++n >= limit) break;
      }
      return { finishReason, usage: { promptTokens: prompt.length, completionTokens: n } };
    } finally {
      await seq.clearHistory().catch(() => undefined);
      this.inUse--;
      if (this.resident === r) r.free.push(seq);
      this.waiters.shift()?.();
    }
  }
}
