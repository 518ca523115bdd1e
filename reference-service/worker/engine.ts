/**
 * The worker's scheduler: admits requests up to a running cap (shrunk to 1 under memory
 * pressure), queues the rest up to a bound, and runs each generation against the simulated
 * device: model lease, KV cache per token, prefill and per-token latency, deadline. A failure
 * of one request becomes an error event for that request only.
 */
import type { Clock } from "../../common/clock.js";
import { BackendTimeoutError, GpuOutOfMemoryError } from "../backend-errors.js";
import type { GenerationRequest } from "../backend.js";
import type { VramLedger } from "../gpu/ledger.js";
import type { Lease, ModelManager } from "../gpu/models.js";
import { countTokens, embed, interTokenMs, naturalLength, prefillMs, tokenText } from "../gpu/synth.js";
import { errorCodeOf } from "../ipc/error-codes.js";
import type { CatalogModel, ResponseEvent } from "../ipc/protocol.js";
import type { RealGenerator } from "../llama/runtime.js";

export interface EngineOptions {
  readonly clock: Clock;
  readonly models: ModelManager;
  readonly ledger: VramLedger;
  readonly kvBytesPerToken: number;
  readonly maxRunning: number;
  readonly maxWaiting: number;
  readonly pressureThreshold: number;
  readonly onKvExhausted?: "preempt" | "fail";
  readonly emit: (wireId: string, event: ResponseEvent) => void;
  /** engine: llama: generation runs here (tokens, usage, KV, context) instead of the simulation. */
  readonly real?: RealGenerator;
}

interface Job {
  /** Admission order: the newest running request is the one preempted. */
  seq: number;
  /** Its KV cache was taken away; it must wait for memory and recompute before going on. */
  preempted: boolean;
  readonly wireId: string;
  readonly request: GenerationRequest;
  readonly controller: AbortController;
}

export interface EngineCounters {
  promptTokens: number;
  generationTokens: number;
  preemptions: number;
  requestsFinished: number;
  oomErrors: number;
}

export class Engine {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private runningCount = 0;
  private admitted = 0;
  private readonly memoryWaiters = new Set<() => void>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  lastTokenAtMs: number | null = null;
  readonly counters: EngineCounters = {
    promptTokens: 0,
    generationTokens: 0,
    preemptions: 0,
    requestsFinished: 0,
    oomErrors: 0,
  };

  constructor(private readonly o: EngineOptions) {}

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.queue.length;
  }

  get requestIds(): string[] {
    return [...this.jobs.keys()];
  }

  /** Takes a request; its events (or one error event) go to `emit`. */
  submit(wireId: string, request: GenerationRequest): void {
    if (this.jobs.has(wireId)) return; // a duplicate that slipped past the spool's dedupe
    if (this.draining) {
      this.o.emit(wireId, { type: "error", code: "worker_unavailable", message: "worker is shutting down" });
      return;
    }
    if (this.queue.length >= this.o.maxWaiting && this.runningCount >= this.capacity()) {
      this.o.emit(wireId, { type: "error", code: "worker_unavailable", message: "worker queue is full" });
      return;
    }
    const job = { seq: 0, preempted: false, wireId, request, controller: new AbortController() };
    this.jobs.set(wireId, job);
    this.queue.push(job);
    this.pump();
  }

  /** Stops a request at once, frees its slot and KV; no further events are sent for it. */
  cancel(wireId: string): boolean {
    const job = this.jobs.get(wireId);
    if (!job) return false;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.finish(job, false);
    }
    job.controller.abort(new Error("cancelled"));
    return true;
  }

  /** Refuses new requests from now on; resolves once every accepted one has finished. */
  drain(): Promise<void> {
    this.draining = true;
    return this.idle();
  }

  /** Fails every request still held (shutdown deadline passed). */
  abortAll(message: string): void {
    for (const job of [...this.jobs.values()]) {
      this.o.emit(job.wireId, { type: "error", code: "worker_unavailable", message });
      this.cancel(job.wireId);
    }
  }

  idle(): Promise<void> {
    if (this.jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Running cap: the configured one, or 1 while memory is above the pressure threshold. */
  capacity(): number {
    const { ledger, models, pressureThreshold, maxRunning } = this.o;
    if (ledger.usage <= pressureThreshold) return maxRunning;
    models.evictIdle(new Set([...this.jobs.values()].map((j) => j.request.model)));
    return ledger.usage <= pressureThreshold ? maxRunning : 1;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.runningCount < this.capacity()) {
      const job = this.queue.shift();
      if (!job) break;
      this.runningCount++;
      job.seq = ++this.admitted;
      void this.run(job);
    }
  }

  private async run(job: Job): Promise<void> {
    let lease: Lease | undefined;
    try {
      this.checkDeadline(job);
      lease = await this.o.models.acquire(job.request.model);
      job.controller.signal.throwIfAborted();
      if (job.request.kind === "embedding") await this.embedJob(job, lease);
      else await this.generateJob(job, lease);
    } catch (err) {
      if (!job.controller.signal.aborted) this.fail(job, err);
    } finally {
      lease?.release(job.request.keepAliveMs);
      this.runningCount--;
      this.finish(job, true);
      this.pump();
    }
  }

  private fail(job: Job, err: unknown): void {
    if (err instanceof GpuOutOfMemoryError) this.counters.oomErrors++;
    const message = err instanceof Error ? err.message : String(err);
    this.o.emit(job.wireId, { type: "error", code: errorCodeOf(err), message });
  }

  private finish(job: Job, ran: boolean): void {
    this.o.ledger.freeKv(job.wireId);
    this.jobs.delete(job.wireId);
    if (ran) this.counters.requestsFinished++;
    for (const w of [...this.memoryWaiters]) w();
    if (this.jobs.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private checkDeadline(job: Job): void {
    if (this.o.clock.now() >= job.request.deadlineAtMs) {
      throw new BackendTimeoutError(`deadline passed in the worker (request ${job.request.id})`);
    }
  }

  /** Sleeps `ms`, but never past the request's deadline (then throws BackendTimeoutError). */
  private async step(job: Job, ms: number): Promise<void> {
    const remaining = job.request.deadlineAtMs - this.o.clock.now();
    if (ms >= remaining) {
      await this.o.clock.sleep(Math.max(0, remaining), job.controller.signal);
      this.checkDeadline(job);
    }
    if (ms > 0) await this.o.clock.sleep(ms, job.controller.signal);
  }

  private async generateJob(job: Job, lease: Lease): Promise<void> {
    if (this.o.real) return this.generateReal(job, lease, this.o.real);
    const { request, wireId } = job;
    const spec = lease.model;
    const promptTokens = countTokens(request.prompt);
    await this.acquireKv(job, spec.device, promptTokens);
    await this.step(job, prefillMs(spec, promptTokens));
    this.counters.promptTokens += promptTokens;
    const natural = naturalLength(request.prompt);
    const n = Math.min(request.maxTokens, natural);
    for (let i = 0; i < n; i++) {
      if (i > 0) await this.step(job, interTokenMs(spec));
      if (job.preempted) await this.recompute(job, spec, promptTokens + i);
      await this.growKv(job, spec, promptTokens + i);
      this.o.emit(wireId, { type: "token", index: i, text: tokenText(request.prompt, i) });
      this.counters.generationTokens++;
      this.lastTokenAtMs = this.o.clock.now();
    }
    this.o.emit(wireId, {
      type: "done",
      finishReason: n < natural ? "length" : "stop",
      usage: { promptTokens, completionTokens: n },
    });
  }

  private async generateReal(job: Job, lease: Lease, real: RealGenerator): Promise<void> {
    const { request, wireId } = job;
    const deadline = AbortSignal.timeout(Math.max(0, request.deadlineAtMs - this.o.clock.now()));
    const signal = AbortSignal.any([job.controller.signal, deadline]);
    let i = 0;
    try {
      const { finishReason, usage } = await real.generate(lease.model, request, signal, (text) => {
        this.o.emit(wireId, { type: "token", index: i++, text });
        this.counters.generationTokens++;
        this.lastTokenAtMs = this.o.clock.now();
      });
      this.counters.promptTokens += usage.promptTokens;
      this.o.emit(wireId, { type: "done", finishReason, usage });
    } catch (err) {
      if (deadline.aborted && !job.controller.signal.aborted)
        throw new BackendTimeoutError(`deadline passed in the worker (request ${request.id})`);
      throw err;
    }
  }

  private async embedJob(job: Job, lease: Lease): Promise<void> {
    const { request, wireId } = job;
    const spec = lease.model;
    const inputs = request.inputs ?? [request.prompt];
    const promptTokens = inputs.reduce((s, t) => s + countTokens(t), 0);
    await this.acquireKv(job, spec.device, promptTokens);
    await this.step(job, prefillMs(spec, promptTokens));
    this.counters.promptTokens += promptTokens;
    const vectors = inputs.map((t) => embed(t, spec.embeddingDim));
    this.o.emit(wireId, { type: "embedding", vectors, usage: { promptTokens, completionTokens: 0 } });
  }

  private allocateKv(wireId: string, device: "gpu" | "cpu", tokens: number): void {
    if (device === "gpu") this.o.ledger.allocateKv(wireId, tokens * this.o.kvBytesPerToken);
  }

  /** Other requests hold KV cache, so waiting for one of them to finish can free memory. */
  private othersHoldKv(job: Job): boolean {
    for (const other of this.jobs.values()) {
      if (other !== job && this.o.ledger.kvBytesOf(other.wireId) > 0) return true;
    }
    return false;
  }

  /** KV for `tokens` more tokens; when memory is short, waits for others to finish (bounded by the deadline). */
  private async acquireKv(job: Job, device: "gpu" | "cpu", tokens: number): Promise<void> {
    for (;;) {
      try {
        this.allocateKv(job.wireId, device, tokens);
        return;
      } catch (err) {
        if (!(err instanceof GpuOutOfMemoryError) || !this.othersHoldKv(job)) throw err;
      }
      await this.waitForMemory(job);
    }
  }

  /** One more token of KV; on exhaustion preempt the newest request holding KV (maybe this one). */
  private async growKv(job: Job, spec: CatalogModel, tokensSoFar: number): Promise<void> {
    for (;;) {
      try {
        this.allocateKv(job.wireId, spec.device, 1);
        return;
      } catch (err) {
        const preempting = err instanceof GpuOutOfMemoryError && this.o.onKvExhausted !== "fail";
        if (!preempting || !this.othersHoldKv(job)) throw err;
      }
      const victim = this.newestHoldingKv();
      this.preempt(victim ?? job);
      if (job.preempted) await this.recompute(job, spec, tokensSoFar);
    }
  }

  private newestHoldingKv(): Job | undefined {
    let newest: Job | undefined;
    for (const j of this.jobs.values()) {
      if (this.o.ledger.kvBytesOf(j.wireId) > 0 && (!newest || j.seq > newest.seq)) newest = j;
    }
    return newest;
  }

  private preempt(victim: Job): void {
    this.o.ledger.freeKv(victim.wireId);
    victim.preempted = true;
    this.counters.preemptions++;
  }

  /**
   * After preemption: wait for memory, take KV for everything so far, pay the prefill again.
   * Waiting is only worth it while another request holds KV: finishing is what wakes waiters,
   * and with nobody left to finish (the peer that preempted us failed, a co-tenant took the
   * device) the wait would last until the deadline instead of failing now with a CUDA OOM.
   */
  private async recompute(job: Job, spec: CatalogModel, tokens: number): Promise<void> {
    if (this.othersHoldKv(job)) await this.waitForMemory(job);
    await this.acquireKv(job, spec.device, tokens);
    job.preempted = false;
    await this.step(job, prefillMs(spec, tokens));
  }

  /** Resolves when some request finishes; rejects on cancel or at the deadline. */
  private waitForMemory(job: Job): Promise<void> {
    const { clock } = this.o;
    const signal = job.controller.signal;
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error): void => {
        clock.clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.memoryWaiters.delete(waiter);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => settle(signal.reason as Error);
      const waiter = (): void => settle();
      const timer = clock.setTimeout(
        () =>
          settle(
            new BackendTimeoutError(`deadline passed waiting for GPU memory (request ${job.request.id})`),
          ),
        Math.max(0, job.request.deadlineAtMs - clock.now()),
      );
      this.memoryWaiters.add(waiter);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
