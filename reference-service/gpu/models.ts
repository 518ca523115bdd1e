/**
 * Model lifecycle on the simulated device (reference note 4.4):
 *   unloaded -> loading -> ready -> draining -> unloading -> unloaded, and failed(reason).
 * One GPU model is resident at a time: loading another drains (waits for its requests to
 * finish) and unloads the resident one first. CPU models live beside it. An idle model is
 * unloaded after its keep-alive; a request's keepAliveMs (Ollama semantics: 0 = unload after
 * the reply, < 0 = pin) overrides the model's TTL. Time comes from the injected Clock.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { ModelLoadError, ModelNotFoundError } from "../backend-errors.js";
import type { CatalogModel, ModelState, ModelStatus } from "../ipc/protocol.js";
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
  /** Frees what `verify` loaded (engine: llama), so the next load of the model reads its file again. */
  readonly release?: (model: CatalogModel) => Promise<void>;
}

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
}

export class ModelManager {
  private readonly entries = new Map<string, Entry>();

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
      });
    }
  }

  spec(name: string): CatalogModel {
    return this.entry(name).spec;
  }

  state(name: string): ModelState {
    return this.entry(name).state;
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
        case "failed":
          await this.startLoad(e, this.requestTtl(name));
          return this.lease(e);
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

  /** Loads `e`; rejects with the load error (GpuOutOfMemoryError, ModelLoadError). */
  private async startLoad(e: Entry, keepAliveMs: number): Promise<void> {
    if (e.spec.device === "gpu") await this.evictOtherGpuModels(e);
    if (e.state !== "unloaded" && e.state !== "failed") {
      // Someone else started loading it while we were evicting: share that load's outcome.
      const attempts = e.attempts;
      await e.busy;
      if (stateOf(e) === "ready") return;
      if (stateOf(e) === "failed" && e.attempts !== attempts && e.lastError) throw e.lastError;
    }
    e.attempts++;
    e.state = "loading";
    e.reason = undefined;
    const run = this.runLoad(e, keepAliveMs);
    e.busy = run.catch(() => undefined);
    await run;
  }

  private async runLoad(e: Entry, keepAliveMs: number): Promise<void> {
    const { ledger, clock } = this.o;
    try {
      await this.o.refreshCotenants?.();
      if (e.spec.device === "gpu") ledger.allocateWeights(e.spec.name, e.spec.sizeBytes, this.o.minKvBytes);
      await clock.sleep(e.spec.loadMs);
      const problem = await this.verify(e.spec);
      if (problem !== undefined)
        throw new ModelLoadError(`model '${e.spec.name}' failed verification: ${problem}`);
      e.state = "ready";
      e.keepAliveMs = keepAliveMs;
      e.lastError = undefined;
    } catch (err) {
      ledger.freeWeights(e.spec.name);
      e.state = "failed";
      e.reason = (err as Error).message;
      e.lastError = err as Error;
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

  private async evictOtherGpuModels(keep: Entry): Promise<void> {
    for (const other of this.entries.values()) {
      if (other === keep || other.spec.device !== "gpu") continue;
      if (other.state === "unloaded" || other.state === "failed") continue;
      await this.drainAndUnload(other);
    }
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
    e.state = "draining";
    const run = (async () => {
      if (e.refCount > 0) await new Promise<void>((resolve) => e.idleWaiters.push(resolve));
      e.state = "unloading";
      this.o.ledger.freeWeights(e.spec.name);
      await this.o.release?.(e.spec).catch(() => undefined);
      e.state = "unloaded";
    })();
    e.busy = run;
    await run;
  }
}

function stateOf(e: Entry): ModelState {
  return e.state;
}
