import type { Heartbeat } from "../../../reference-service/ipc/protocol.js";
import type { WorkerHandle } from "../../../reference-service/supervisor/worker-process.js";

/** A worker handle that records signals; SIGKILL (and SIGTERM unless `ignoreTerm`) end it. */
export class FakeWorker implements WorkerHandle {
  readonly signals: NodeJS.Signals[] = [];
  exited = false;
  ignoreTerm = false;
  private readonly listeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];

  constructor(readonly pid: number) {}

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === "SIGKILL" || (signal === "SIGTERM" && !this.ignoreTerm)) this.exit(null, signal);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.listeners.push(listener);
  }

  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    for (const l of this.listeners) l(code, signal);
  }
}

export function heartbeat(pid: number, atMs: number): Heartbeat {
  return {
    seq: 1,
    pid,
    phase: "ready",
    startedAtMs: 0,
    atMs,
    intervalMs: 100,
    running: 0,
    waiting: 0,
    lastTokenAtMs: null,
    vram: { usedBytes: 1, totalBytes: 2, cotenantBytes: 0, reservedBytes: 0, weightsBytes: 1, kvBytes: 0 },
    kvUsage: 0,
    loadSeconds: {},
    verifySeconds: {},
    models: [],
    gpuModels: { resident: 0, peak: 0 },
    loadRetries: {},
    downloads: {},
    requestIds: [],
    counters: {
      promptTokens: 0,
      generationTokens: 0,
      preemptions: 0,
      requestsFinished: 0,
      oomErrors: 0,
      framesRejected: {},
    },
  };
}
