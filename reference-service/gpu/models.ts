/**
 * Model lifecycle on the simulated device (reference note 4.4):
 *   unloaded -> loading -> ready -> draining -> unloading -> unloaded, and failed(reason).
 * At most `gpuModelsMax` GPU models are resident (default 1, write-up 000's "only one GPU model
 * loaded at a time"): loading one more first drains (waits for its requests to finish) and
 * unloads the least recently used. GPU loads take turns, so two first requests for different
 * models cannot both pass that count and load side by side. CPU models live beside them. An
 * idle model is unloaded after its keep-alive; a request's keepAliveMs (Ollama semantics: 0 =
 * unload after the reply, < 0 = pin) overrides the model's TTL. A failed load is tried again
 * under `loadRetry` (write-up 002's model_loading policy; off by default). Time comes from the
 * injected Clock.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { ModelLoadError, ModelNotFoundError } from "../backend-errors.js";
import type { CatalogModel, ModelState, ModelStatus } from "../ipc/protocol.js";
import type { ModelDownloads } from "./download.js";
import type { VramLedger } from "./ledger.js";

export interface ModelManagerOptions {
  readonly clock: Clock;
  readonly ledger: VramLedger;
  readonly catalog: readonly CatalogModel[];
  /** A GPU load must leave this much free for KV cache. */
  readonly minKvBytes: number;
  readonly defaultKeepAliveMs: number;
  readonly temporaryKeepAliveMs: number;
  /** The primary model: loads of it get the default TTL; on-demand loads of others the temporary one. */
  readonly primary?: string | null;
  /** Re-reads external reservations right before a load (co-tenant files). */
  readonly refreshCotenants?: () => Promise<void>;
  /** Checks that a freshly loaded model is usable; returns a failure reason, or undefined. */
  readonly verify?: (model: CatalogModel) => Promise<string | undefined>;
  /**
   * The explicit verification's file check (engine: llama: the SHA-256 of the GGUF); returns a
   * failure reason, or undefined. Absent (engine: sim): the model's `verifyMs` wait is the check.
   */
  readonly checkFile?: (model: CatalogModel) => Promise<string | undefined>;
  /** Frees what `verify` loaded (engine: llama), so the next load of the model reads its file again. */
  readonly release?: (model: CatalogModel) => Promise<void>;
  /** Most GPU models resident at once; null = as many as VRAM allows. Default 1. */
  readonly gpuModelsMax?: number | null;
  /** Attempts per load and the waits between them; default one attempt (no retry). */
  readonly loadRetry?: LoadRetryOptions;
  /** Fetches a model with a `source` before its first load (gpu/download.ts); absent = none fetched. */
  readonly downloads?: ModelDownloads;
}

/**
 * Write-up 002's `model_loading` retry: after failed attempt n (n >= 1) the next one starts
 * min(maxDelayMs, initialDelayMs x backoffFactor^(n-1)) later, up to maxAttempts in all.
 */
export interface LoadRetryOptions {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly backoffFactor: number;
  readonly maxDelayMs: number;
}

/** Wait before the attempt after failed attempt `failed` (1-based). */
export function loadRetryDelayMs(o: LoadRetryOptions, failed: number): number {
  return Math.min(o.maxDelayMs, Math.round(o.initialDelayMs * o.backoffFactor ** (failed - 1)));
}

/** Retried load attempts of one model in this worker, for the heartbeat and /metrics. */
export interface LoadRetryStats {
  /** Retried attempts that loaded the model. */
  loaded: number;
  /** Retried attempts that failed too. */
  failed: number;
  /** Measured wait (Clock.monotonic, whole ms) before the last retried attempt. */
  lastWaitMs: number;
}

const RESIDENT_STATES: ReadonlySet<ModelState> = new Set(["loading", "ready", "draining", "unloading"]);

export interface Lease {
  readonly model: CatalogModel;
  /** Gives the model back; `keepAliveMs` (if given) becomes the model's idle TTL. */
  release(keepAliveMs?: number): void;
}

interface Entry {
  readonly spec: CatalogModel;
  state: ModelState;
  reason: string | undefined;
  refCount: number;
  keepAliveMs: number;
  expiresAtMs: number | undefined;
  ttlTimer: TimerHandle | undefined;
  /** The transition in progress (load or drain+unload); never rejects. */
  busy: Promise<void>;
  lastError: Error | undefined;
  attempts: number;
  idleWaiters: (() => void)[];
  /** Last lease (Clock.now()); the least recently used GPU model is the one unloaded for another. */
  lastUsedAtMs: number;
}

export class ModelManager {
  private readonly entries = new Map<string, Entry>();
  /** The GPU load whose turn it is resolves this when it has made room and started. */
  private gpuTurn: Promise<void> = Promise.resolve();
  private residentPeak = 0;
  private readonly retries = new Map<string, LoadRetryStats>();
  private readonly verified = new Map<string, number>();

  constructor(private readonly o: ModelManagerOptions) {
    for (const spec of o.catalog) {
      this.entries.set(spec.name, {
        spec,
        state: "unloaded",
        reason: undefined,
        refCount: 0,
        keepAliveMs: o.defaultKeepAliveMs,
        expiresAtMs: undefined,
        ttlTimer: undefined,
        busy: Promise.resolve(),
        lastError: undefined,
        attempts: 0,
        idleWaiters: [],
        lastUsedAtMs: 0,
      });
    }
  }

  spec(name: string): CatalogModel {
    return this.entry(name).spec;
  }

  state(name: string): ModelState {
    return this.entry(name).state;
  }

  /** GPU models resident now: loading, ready, draining or unloading. */
  get gpuResident(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.spec.device === "gpu" && RESIDENT_STATES.has(e.state)) n++;
    return n;
  }

  /** Most GPU models ever resident at once in this manager (checked at every state change). */
  get gpuResidentPeak(): number {
    return this.residentPeak;
  }

  /** Retried load attempts by model (only models that had one). */
  loadRetryStats(): Record<string, LoadRetryStats> {
    return Object.fromEntries([...this.retries].map(([name, r]) => [name, { ...r }]));
  }

  status(): ModelStatus[] {
    return [...this.entries.values()].map((e) => ({
      name: e.spec.name,
      device: e.spec.device,
      state: e.state,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      sizeBytes: e.spec.sizeBytes,
      ...(e.expiresAtMs !== undefined ? { expiresAtMs: e.expiresAtMs } : {}),
      refCount: e.refCount,
    }));
  }

  /** Waits until `name` is ready (loading it, swapping out another GPU model if needed) and holds it. */
  async acquire(name: string): Promise<Lease> {
    const e = this.entry(name);
    for (;;) {
      switch (e.state) {
        case "ready":
          return this.lease(e);
        case "loading":
        case "draining":
        case "unloading": {
          const attempts = e.attempts;
          await e.busy;
          // e.state changed while we awaited; re-read it through a function TS does not narrow.
          if (stateOf(e) === "failed" && e.attempts !== attempts && e.lastError) throw e.lastError;
          break;
        }
        case "unloaded":
        case "failed": {
          // A model with a source is fetched first: this waits for a download attempt in flight,
          // and throws ModelDownloadError at once while the download waits for its next one.
          if (this.o.downloads) await this.download(e, this.o.downloads);
          if (stateOf(e) !== "unloaded" && stateOf(e) !== "failed") break;
          const started = await this.startLoad(e, this.requestTtl(name));
          // Awaited here, not inside startLoad: the caller that started the load resumes before
          // the ones waiting on `busy`, so the first request for a model runs first.
          if (started) return await started.run;
          break; // someone else loaded or unloaded it meanwhile: look again
        }
        default: {
          const never: never = e.state;
          throw new Error(`unknown state ${String(never)}`);
        }
      }
    }
  }

  /** Explicit load (POST .../load): ready with the given keep-alive (default TTL if absent). */
  async load(name: string, keepAliveMs?: number): Promise<ModelState> {
    const lease = await this.acquire(name);
    lease.release(keepAliveMs ?? this.o.defaultKeepAliveMs);
    return this.entry(name).state;
  }

  /** Explicit unload: drains the model's requests, then frees it. */
  async unload(name: string): Promise<ModelState> {
    await this.drainAndUnload(this.entry(name));
    return this.entry(name).state;
  }

  /**
   * Explicit verification (POST /v1/models/{id}/verify), write-up 004's check of a model: waits
   * the model's `verifyMs` (engine: sim) and runs `checkFile` (engine: llama). It neither loads
   * nor unloads, so it runs beside loads and requests; resolves with the model's state, or
   * throws ModelNotFoundError / ModelLoadError with the reason.
   */
  async verifyModel(name: string): Promise<ModelState> {
    const e = this.entry(name);
    const started = this.o.clock.monotonic();
    const waitMs = e.spec.verifyMs ?? 0;
    if (waitMs > 0) await this.o.clock.sleep(waitMs);
    const problem = await this.o.checkFile?.(e.spec);
    this.verified.set(name, (this.o.clock.monotonic() - started) / 1000);
    if (problem !== undefined) throw new ModelLoadError(`model '${name}' failed verification: ${problem}`);
    return e.state;
  }

  /** Seconds the last explicit verification of each model took (faultline_model_verify_seconds). */
  verifySeconds(): Record<string, number> {
    return Object.fromEntries(this.verified);
  }

  /**
   * Unloads every ready GPU model nobody holds (memory-pressure cleanup), except the ones in
   * `keep` (needed by queued requests: evicting them would only force a reload). Returns their names.
   */
  evictIdle(keep: ReadonlySet<string> = new Set()): string[] {
    const evicted: string[] = [];
    for (const e of this.entries.values()) {
      if (e.spec.device === "gpu" && e.state === "ready" && e.refCount === 0 && !keep.has(e.spec.name)) {
        evicted.push(e.spec.name);
        void this.drainAndUnload(e);
      }
    }
    return evicted;
  }

  private async download(e: Entry, downloads: ModelDownloads): Promise<void> {
    try {
      await downloads.ensure(e.spec);
    } catch (err) {
      e.reason = (err as Error).message;
      throw err;
    }
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) {
      const known = [...this.entries.keys()].join(", ");
      throw new ModelNotFoundError(`model '${name}' does not exist (known: ${known})`);
    }
    return e;
  }

  private requestTtl(name: string): number {
    return this.o.primary === name ? this.o.defaultKeepAliveMs : this.o.temporaryKeepAliveMs;
  }

  private lease(e: Entry): Lease {
    e.refCount++;
    e.lastUsedAtMs = this.o.clock.now();
    this.o.clock.clearTimeout(e.ttlTimer);
    e.ttlTimer = undefined;
    e.expiresAtMs = undefined;
    let released = false;
    return {
      model: e.spec,
      release: (keepAliveMs?: number) => {
        if (released) return;
        released = true;
        if (keepAliveMs !== undefined) e.keepAliveMs = keepAliveMs;
        e.refCount--;
        if (e.refCount === 0) this.becameIdle(e);
      },
    };
  }

  private becameIdle(e: Entry): void {
    const waiters = e.idleWaiters.splice(0);
    for (const w of waiters) w();
    if (e.state !== "ready") return;
    if (e.keepAliveMs === 0) {
      void this.drainAndUnload(e);
    } else if (e.keepAliveMs > 0) {
      e.expiresAtMs = this.o.clock.now() + e.keepAliveMs;
      e.ttlTimer = this.o.clock.setTimeout(() => {
        e.ttlTimer = undefined;
        if (e.refCount === 0 && e.state === "ready") void this.drainAndUnload(e);
      }, e.keepAliveMs);
    }
  }

  /**
   * Starts loading `e`; `run` resolves with a lease on it, taken as the load ends (a GPU load
   * waiting for its turn cannot unload it before its first request ran), or rejects with the
   * load error (GpuOutOfMemoryError, ModelLoadError). Resolves undefined, without loading, when
   * another caller loaded it while this one waited for its GPU turn (or rejects with that
   * load's error if it failed).
   */
  private async startLoad(e: Entry, keepAliveMs: number): Promise<{ run: Promise<Lease> } | undefined> {
    const attempts = e.attempts;
    const endTurn = e.spec.device === "gpu" ? await this.gpuTurnStart() : undefined;
    let run: Promise<Lease>;
    try {
      if (e.attempts !== attempts || (e.state !== "unloaded" && e.state !== "failed")) {
        if (e.state === "failed" && e.lastError) throw e.lastError;
        return undefined;
      }
      if (e.spec.device === "gpu") await this.makeRoomFor(e);
      e.attempts++;
      this.setState(e, "loading");
      e.reason = undefined;
      run = this.runLoad(e, keepAliveMs);
      e.busy = run.then(
        () => undefined,
        () => undefined,
      );
    } finally {
      endTurn?.();
    }
    return { run };
  }

  /** Waits for the previous GPU load to have made room and started; call the result when done. */
  private async gpuTurnStart(): Promise<() => void> {
    const previous = this.gpuTurn;
    let end: () => void = () => undefined;
    this.gpuTurn = new Promise<void>((resolve) => (end = resolve));
    await previous;
    return end;
  }

  /** Unloads least recently used GPU models until loading `e` keeps within gpuModelsMax. */
  private async makeRoomFor(e: Entry): Promise<void> {
    const max = this.o.gpuModelsMax === undefined ? 1 : this.o.gpuModelsMax;
    if (max === null) return;
    for (;;) {
      const others = [...this.entries.values()].filter(
        (o) => o !== e && o.spec.device === "gpu" && RESIDENT_STATES.has(o.state),
      );
      if (others.length < max) return;
      // Idle ones first (no request to wait for), then the least recently used.
      others.sort(
        (a, b) => Number(a.refCount > 0) - Number(b.refCount > 0) || a.lastUsedAtMs - b.lastUsedAtMs,
      );
      const victim = others[0];
      if (victim) await this.drainAndUnload(victim);
    }
  }

  private setState(e: Entry, state: ModelState): void {
    e.state = state;
    if (e.spec.device === "gpu") this.residentPeak = Math.max(this.residentPeak, this.gpuResident);
  }

  private async runLoad(e: Entry, keepAliveMs: number): Promise<Lease> {
    const retry = this.o.loadRetry ?? { maxAttempts: 1, initialDelayMs: 0, backoffFactor: 1, maxDelayMs: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.loadOnce(e);
        if (attempt > 1) this.retryStats(e).loaded++;
        this.setState(e, "ready");
        e.reason = undefined;
        e.keepAliveMs = keepAliveMs;
        e.lastError = undefined;
        return this.lease(e);
      } catch (err) {
        if (attempt > 1) this.retryStats(e).failed++;
        e.reason = (err as Error).message;
        e.lastError = err as Error;
        if (attempt >= retry.maxAttempts) {
          this.setState(e, "failed");
          throw err;
        }
      }
      // Still "loading" while it waits: requests for it wait for the retry instead of starting
      // loads of their own, and it keeps its GPU slot.
      const delayMs = loadRetryDelayMs(retry, attempt);
      e.reason = `load attempt ${attempt} of ${retry.maxAttempts} failed, next in ${delayMs} ms: ${e.reason}`;
      const waitStart = this.o.clock.monotonic();
      await this.o.clock.sleep(delayMs);
      // Whole ms: timers have ms resolution, and Node fires one up to 1 ms early against
      // performance.now() (a 2000 ms sleep measured 1999.998 ms).
      this.retryStats(e).lastWaitMs = Math.round(this.o.clock.monotonic() - waitStart);
    }
  }

  private retryStats(e: Entry): LoadRetryStats {
    let r = this.retries.get(e.spec.name);
    if (!r) this.retries.set(e.spec.name, (r = { loaded: 0, failed: 0, lastWaitMs: 0 }));
    return r;
  }

  /** One load attempt; on failure its weights are freed and the error thrown. */
  private async loadOnce(e: Entry): Promise<void> {
    const { ledger, clock } = this.o;
    try {
      await this.o.refreshCotenants?.();
      if (e.spec.device === "gpu") ledger.allocateWeights(e.spec.name, e.spec.sizeBytes, this.o.minKvBytes);
      await clock.sleep(e.spec.loadMs);
      const problem = await this.verify(e.spec);
      if (problem !== undefined)
        throw new ModelLoadError(`model '${e.spec.name}' failed verification: ${problem}`);
    } catch (err) {
      ledger.freeWeights(e.spec.name);
      throw err;
    }
  }

  /**
   * Usable = its weights are resident and there is still room to run: memory taken by someone
   * else during the load (a co-tenant) can leave the weights in place but no KV cache at all.
   */
  private async verify(spec: CatalogModel): Promise<string | undefined> {
    await this.o.refreshCotenants?.();
    const { ledger, minKvBytes } = this.o;
    if (spec.device === "gpu") {
      if (!ledger.hasWeights(spec.name)) return "weights not resident";
      if (ledger.usedBytes > ledger.totalBytes) return "device over-committed after load (co-tenant grew)";
      if (ledger.freeBytes < minKvBytes) {
        return `only ${ledger.freeBytes} bytes free after load, ${minKvBytes} needed for the KV cache`;
      }
    }
    return this.o.verify ? this.o.verify(spec) : undefined;
  }

  private async drainAndUnload(e: Entry): Promise<void> {
    for (;;) {
      if (e.state === "unloaded" || e.state === "failed") return;
      if (e.state === "ready") break;
      await e.busy; // loading, draining or unloading: let it finish, then look again
    }
    this.o.clock.clearTimeout(e.ttlTimer);
    e.ttlTimer = undefined;
    e.expiresAtMs = undefined;
    this.setState(e, "draining");
    const run = (async () => {
      if (e.refCount > 0) await new Promise<void>((resolve) => e.idleWaiters.push(resolve));
      this.setState(e, "unloading");
      this.o.ledger.freeWeights(e.spec.name);
      await this.o.release?.(e.spec).catch(() => undefined);
      this.setState(e, "unloaded");
    })();
    e.busy = run;
    await run;
  }
}

function stateOf(e: Entry): ModelState {
  return e.state;
}
