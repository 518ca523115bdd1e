/**
 * SpoolBackend: the API process's ModelBackend, talking to the worker through the file spool.
 * Every way a call can go wrong ends that call only, promptly and with a typed error:
 *   worker dead (pid gone) or hung (heartbeat stale) or restarted -> WorkerUnavailableError
 *   a response frame for it rejected (corrupt, truncated, ...)    -> CorruptFrameError(kind)
 *   its request or a response part lost (deleted in flight)       -> CorruptFrameError("deleted")
 *   its deadline                                                  -> BackendTimeoutError
 *   the caller's AbortSignal                                      -> the signal's reason
 * and a call that ends before its last event sends a cancel frame, so the worker frees the
 * slot and KV cache at once.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { systemClock, type Clock, type TimerHandle } from "../../common/clock.js";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../backend.js";
import { BackendTimeoutError, CorruptFrameError, WorkerUnavailableError } from "../backend-errors.js";
import { STATE_FILES } from "../contract.js";
import { errorFromCode } from "./error-codes.js";
import { HeartbeatMonitor, isPidAlive, type WorkerStatus } from "./heartbeat-monitor.js";
import { PendingCall } from "./pending-call.js";
import {
  FRAME_DECODE_REASONS,
  REQUEST_ID_PATTERN,
  responsePayloadSchema,
  type HeartbeatRead,
  type ModelState,
  type RequestPayload,
  type ResponseEvent,
  type ResponsePayload,
} from "./protocol.js";
import {
  SpoolReader,
  SpoolWriter,
  purgeSpoolDir,
  tempDirFor,
  type SpoolFrame,
  type SpoolRejection,
} from "./spool.js";

export interface SpoolBackendOptions {
  readonly stateDir: string;
  readonly clock?: Clock;
  /** ModelBackend.name, e.g. the breaker's backend label. Default "worker". */
  readonly name?: string;
  /** A heartbeat older than this means the worker is hung or gone. Default 1000 ms. */
  readonly heartbeatStaleMs?: number;
  /** How often the heartbeat and the worker pid are checked. Default 50 ms. */
  readonly heartbeatPollMs?: number;
  /** No "accepted" by then and the request frame gone from the spool = lost. Default 1000 ms. */
  readonly acceptTimeoutMs?: number;
  /** A missing response part (or final event) waited for this long = lost. Default 1000 ms. */
  readonly lostFrameMs?: number;
  readonly pollIntervalMs?: number;
  readonly staleFrameMs?: number;
  readonly maxPayloadBytes?: number;
  /** Deadline for load/unload calls. Default 60 s. */
  readonly modelOpTimeoutMs?: number;
  /** Every rejected/lost frame, by kind: feed faultline_ipc_frames_corrupt_total{kind}. */
  readonly onCorruptFrame?: (rejection: SpoolRejection) => void;
  /** Every heartbeat poll (age, VRAM, models for /health and metrics). */
  readonly onHeartbeat?: (read: HeartbeatRead) => void;
  readonly isPidAlive?: (pid: number) => boolean;
}

/** Frame kinds that mean the call's data is damaged (as opposed to a harmless extra copy). */
const FAILS_CALL = new Set<string>([...FRAME_DECODE_REASONS, "unreadable", "stale", "partial", "deleted"]);
const RECENT_MEMORY = 2048;

export class SpoolBackend implements ModelBackend {
  readonly name: string;
  private readonly clock: Clock;
  private readonly calls = new Map<string, PendingCall>();
  private readonly recentlyClosed = new Set<string>();
  private readonly writer: SpoolWriter;
  private readonly reader: SpoolReader<typeof responsePayloadSchema>;
  private readonly monitor: HeartbeatMonitor;
  private counter = 0;

  private constructor(private readonly o: SpoolBackendOptions) {
    this.name = o.name ?? "worker";
    this.clock = o.clock ?? systemClock;
    this.writer = new SpoolWriter(join(o.stateDir, STATE_FILES.spoolRequests));
    this.reader = new SpoolReader({
      dir: join(o.stateDir, STATE_FILES.spoolResponses),
      quarantineDir: join(o.stateDir, STATE_FILES.spoolQuarantine),
      schema: responsePayloadSchema,
      clock: this.clock,
      sentAtMs: (p) => p.sentAtMs,
      pollIntervalMs: o.pollIntervalMs ?? 25,
      staleFrameMs: o.staleFrameMs ?? 30_000,
      ...(o.maxPayloadBytes !== undefined ? { maxPayloadBytes: o.maxPayloadBytes } : {}),
      onFrame: (f) => this.onFrame(f),
      onReject: (r) => this.onReject(r),
    });
    this.monitor = new HeartbeatMonitor({
      stateDir: o.stateDir,
      clock: this.clock,
      pollMs: o.heartbeatPollMs ?? 50,
      staleMs: o.heartbeatStaleMs ?? 1000,
      isPidAlive: o.isPidAlive ?? isPidAlive,
      onPoll: (read) => {
        this.o.onHeartbeat?.(read);
        this.checkCalls();
      },
    });
  }

  /** Creates the spool directories if needed and starts watching responses and the heartbeat. */
  static async open(options: SpoolBackendOptions): Promise<SpoolBackend> {
    // Frames of a previous API process belong to calls nobody waits for any more.
    for (const dir of [STATE_FILES.spoolResponses, STATE_FILES.spoolRequests]) {
      await purgeSpoolDir(join(options.stateDir, dir));
      await purgeSpoolDir(tempDirFor(join(options.stateDir, dir)));
    }
    const b = new SpoolBackend(options);
    await b.reader.start(); // creates spool/responses and spool/quarantine
    await b.writer.ensureDir();
    await b.monitor.start();
    return b;
  }

  /** Worker state for readiness and /health: ok with the heartbeat, or why not. */
  workerStatus(): WorkerStatus {
    return this.monitor.status();
  }

  lastHeartbeat(): HeartbeatRead | undefined {
    return this.monitor.latest();
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** The supervisor saw worker `pid` exit: fail its calls now instead of at the next poll. */
  notifyWorkerExit(pid: number): void {
    this.monitor.markDead(pid);
    for (const call of this.calls.values()) {
      if (call.workerPid === pid || call.workerPid === undefined) {
        call.fail(new WorkerUnavailableError(`worker process ${pid} exited during the request`));
      }
    }
  }

  async *generate(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<GenerationEvent> {
    const call = this.begin(request.id, true);
    const disarm = this.arm(call, request.deadlineAtMs, signal);
    try {
      await this.send(call, { type: "generate", sentAtMs: this.clock.now(), request });
      for (;;) {
        const ev = toGenerationEvent(await call.next());
        if (ev) yield ev;
        if (ev?.type === "done" || ev?.type === "embedding") return;
      }
    } finally {
      disarm();
      await this.end(call);
    }
  }

  /** Loads a model in the worker (explicit load endpoint); resolves with its state. */
  loadModel(model: string, keepAliveMs?: number, signal?: AbortSignal): Promise<ModelState> {
    const base = { type: "load" as const, model, ...(keepAliveMs !== undefined ? { keepAliveMs } : {}) };
    return this.modelOp(base, signal);
  }

  unloadModel(model: string, signal?: AbortSignal): Promise<ModelState> {
    return this.modelOp({ type: "unload", model }, signal);
  }

  /** Verifies a model in the worker (explicit verify endpoint); resolves with its state, unchanged. */
  verifyModel(model: string, signal?: AbortSignal): Promise<ModelState> {
    return this.modelOp({ type: "verify", model }, signal);
  }

  /** Stops watching; calls still in flight fail with WorkerUnavailableError. */
  close(): void {
    this.reader.close();
    this.monitor.stop();
    for (const call of this.calls.values()) call.fail(new WorkerUnavailableError("spool backend closed"));
  }

  private async modelOp(
    op: { type: "load"; model: string; keepAliveMs?: number } | { type: "unload" | "verify"; model: string },
    signal: AbortSignal = new AbortController().signal,
  ): Promise<ModelState> {
    const call = this.begin(`${op.type}-${op.model}`, false);
    const disarm = this.arm(call, this.clock.now() + (this.o.modelOpTimeoutMs ?? 60_000), signal);
    try {
      await this.send(call, { ...op, sentAtMs: this.clock.now() });
      const ev = await call.next();
      if (ev.type === "ack") return ev.state;
      if (ev.type === "error") throw errorFromCode(ev.code, ev.message);
      throw new CorruptFrameError(`unexpected '${ev.type}' event for a ${op.type} call`, "bad-schema");
    } finally {
      disarm();
      await this.end(call);
    }
  }

  private begin(id: string, tracked: boolean): PendingCall {
    const status = this.monitor.status();
    if (!status.ok) throw new WorkerUnavailableError(status.reason);
    const safe = id.replace(/[^A-Za-z0-9._:-]/g, "_").slice(0, 96) || "req";
    const wireId = `${safe}~${(++this.counter).toString(36)}`;
    if (!REQUEST_ID_PATTERN.test(wireId)) throw new RangeError(`bad wire id ${wireId}`);
    const call = new PendingCall(wireId, tracked);
    call.workerPid = status.heartbeat.pid; // the worker we expect; "accepted" confirms it
    this.calls.set(wireId, call);
    return call;
  }

  private async send(call: PendingCall, payload: RequestPayload): Promise<void> {
    try {
      call.requestFile = await this.writer.write(call.wireId, payload);
    } catch (e) {
      call.fail(new WorkerUnavailableError(`cannot write the request frame: ${(e as Error).message}`));
    }
  }

  /** Deadline, abort and accept-timeout for one call; returns the disarm function. */
  private arm(call: PendingCall, deadlineAtMs: number, signal: AbortSignal): () => void {
    const timers: (TimerHandle | undefined)[] = [];
    timers.push(
      this.clock.setTimeout(
        () => call.fail(new BackendTimeoutError(`no answer from the worker before the deadline`)),
        Math.max(0, deadlineAtMs - this.clock.now()),
      ),
    );
    const acceptCheck = (): void => {
      if (call.acceptedAtMs !== undefined || call.settled) return;
      void this.requestFramePending(call).then((waiting) => {
        if (waiting) timers.push(this.clock.setTimeout(acceptCheck, this.o.acceptTimeoutMs ?? 1000));
        else this.lost(call, "request frame vanished before the worker read it");
      });
    };
    timers.push(this.clock.setTimeout(acceptCheck, this.o.acceptTimeoutMs ?? 1000));
    const onAbort = (): void => call.fail(abortReason(signal), true);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => {
      for (const t of timers) this.clock.clearTimeout(t);
      signal.removeEventListener("abort", onAbort);
    };
  }

  private async requestFramePending(call: PendingCall): Promise<boolean> {
    if (call.requestFile === undefined) return true; // still being written
    try {
      await access(join(this.o.stateDir, STATE_FILES.spoolRequests, call.requestFile));
      return true;
    } catch {
      return false;
    }
  }

  private async end(call: PendingCall): Promise<void> {
    this.calls.delete(call.wireId);
    this.recentlyClosed.add(call.wireId);
    if (this.recentlyClosed.size > RECENT_MEMORY) {
      const oldest = this.recentlyClosed.values().next().value;
      if (oldest !== undefined) this.recentlyClosed.delete(oldest);
    }
    if (call.settled && !call.failed) return;
    call.fail(new WorkerUnavailableError("call ended"));
    // Ended early (abort, deadline, consumer stopped, error): free the worker's slot.
    await this.writer
      .write(call.wireId, { type: "cancel", sentAtMs: this.clock.now() })
      .catch(() => undefined);
  }

  private lost(call: PendingCall, detail: string): void {
    if (call.settled) return;
    call.fail(new CorruptFrameError(`IPC frame lost: ${detail}`, "deleted"));
    this.report({ kind: "deleted", file: "", requestId: call.wireId, detail });
  }

  private report(r: SpoolRejection): void {
    try {
      this.o.onCorruptFrame?.(r);
    } catch {
      // a metrics hook failing must not break the IPC
    }
  }

  private onFrame(f: SpoolFrame<ResponsePayload>): "orphan" | "duplicate" | undefined {
    const call = this.calls.get(f.requestId);
    if (!call) return this.recentlyClosed.has(f.requestId) || isNakOnly(f.payload) ? undefined : "orphan";
    const result = call.deliver(f.payload.part, f.payload.events, this.clock.now());
    if (result === "overflow") this.lost(call, "too many response parts out of order");
    return result === "duplicate" ? "duplicate" : undefined;
  }

  private onReject(r: SpoolRejection): void {
    this.report(r);
    const call = r.requestId !== undefined ? this.calls.get(r.requestId) : undefined;
    if (call && FAILS_CALL.has(r.kind)) {
      call.fail(new CorruptFrameError(`response frame rejected: ${r.kind} (${r.detail})`, r.kind));
    }
  }

  /** Runs after every heartbeat poll: fails calls whose worker is gone or whose frames were lost. */
  private checkCalls(): void {
    if (this.calls.size === 0) return;
    const status = this.monitor.status(false);
    const now = this.clock.now();
    for (const call of this.calls.values()) {
      if (call.settled) continue;
      if (!status.ok) {
        call.fail(new WorkerUnavailableError(status.reason));
      } else if (call.workerPid !== undefined && call.workerPid !== status.heartbeat.pid) {
        call.fail(
          new WorkerUnavailableError(`worker ${call.workerPid} was replaced by ${status.heartbeat.pid}`),
        );
      } else {
        this.checkLost(call, status.heartbeat.atMs, status.heartbeat.requestIds, now);
      }
    }
  }

  private checkLost(call: PendingCall, beatAtMs: number, heldIds: readonly string[], now: number): void {
    const lostAfter = this.o.lostFrameMs ?? 1000;
    if (call.gapSinceMs !== undefined && now - call.gapSinceMs > lostAfter) {
      this.lost(call, "a response part never arrived");
      return;
    }
    // The heartbeat was written after the worker took the call, yet no longer lists it: its
    // last frames must be on their way or lost. Allow lostAfter for them to arrive.
    const gone =
      call.tracked &&
      call.acceptedAtMs !== undefined &&
      beatAtMs >= call.acceptedAtMs &&
      !heldIds.includes(call.wireId);
    if (!gone) {
      call.missingSinceMs = undefined;
      return;
    }
    call.missingSinceMs ??= now;
    if (now - call.missingSinceMs > lostAfter)
      this.lost(call, "the worker finished but its last frame never arrived");
  }
}

function toGenerationEvent(ev: ResponseEvent): GenerationEvent | undefined {
  switch (ev.type) {
    case "token":
      return { type: "token", index: ev.index, text: ev.text };
    case "done":
      return { type: "done", finishReason: ev.finishReason, usage: ev.usage };
    case "embedding":
      return { type: "embedding", vectors: ev.vectors, usage: ev.usage };
    case "error":
      throw errorFromCode(ev.code, ev.message);
    case "accepted":
      return undefined;
    case "ack":
      throw new CorruptFrameError("unexpected 'ack' event for a generation", "bad-schema");
    default: {
      const never: never = ev;
      throw new CorruptFrameError(`unknown event ${String(never)}`, "bad-schema");
    }
  }
}

/**
 * The worker's NAK of a request frame it could not decode. For an id nobody waits for (a frame
 * planted or mangled beyond its name) it is an echo of a rejection the worker already counted.
 */
function isNakOnly(p: ResponsePayload): boolean {
  return p.events.every((e) => e.type === "error" && e.code === "ipc_corrupt_frame");
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}
