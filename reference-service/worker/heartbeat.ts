/**
 * The heartbeat file: rewritten atomically every interval with what the API's readiness,
 * watchdog and metrics need. Each beat first re-reads the co-tenant reservations, so a GPU-OOM
 * fault (a file appearing or vanishing) reaches the ledger within one interval.
 */
import { basename, dirname, join } from "node:path";
import type { Clock, TimerHandle } from "../../common/clock.js";
import { STATE_FILES } from "../contract.js";
import type { Heartbeat, WorkerPhase } from "../ipc/protocol.js";
import { writeFileAtomic } from "../ipc/spool.js";
import type { ModelDownloads } from "../gpu/download.js";
import type { VramLedger } from "../gpu/ledger.js";
import type { ModelManager } from "../gpu/models.js";
import type { RealGenerator } from "../llama/runtime.js";
import type { Engine } from "./engine.js";

export interface HeartbeatSources {
  readonly pid: number;
  readonly startedAtMs: number;
  readonly intervalMs: number;
  readonly engine: Engine;
  readonly ledger: VramLedger;
  readonly models: ModelManager;
  /** Model downloads (models with a source). */
  readonly downloads?: ModelDownloads;
  readonly kvBudgetBytes: () => number;
  readonly framesRejected: Readonly<Record<string, number>>;
  /** engine llama: the real engine's KV use and load times replace the simulated ones. */
  readonly real?: RealGenerator;
  phase(): WorkerPhase;
}

const MAX_IDS = 512;

export function buildHeartbeat(src: HeartbeatSources, seq: number, atMs: number): Heartbeat {
  const snap = src.ledger.snapshot();
  const budget = src.kvBudgetBytes();
  const c = src.engine.counters;
  const real = src.real?.stats();
  return {
    seq,
    pid: src.pid,
    phase: src.phase(),
    startedAtMs: src.startedAtMs,
    atMs,
    intervalMs: src.intervalMs,
    running: src.engine.running,
    waiting: src.engine.waiting,
    lastTokenAtMs: src.engine.lastTokenAtMs,
    vram: {
      usedBytes: snap.usedBytes,
      totalBytes: snap.totalBytes,
      cotenantBytes: snap.cotenantBytes,
      reservedBytes: snap.reservedBytes,
      weightsBytes: snap.weightsBytes,
      kvBytes: snap.kvBytes,
    },
    kvUsage: real ? real.kvCacheUsage : budget > 0 ? Math.min(1, snap.kvBytes / budget) : 0,
    loadSeconds: real ? { ...real.loadSeconds } : {},
    // Explicit verifications (either engine), then the real engine's checks inside its loads.
    verifySeconds: { ...src.models.verifySeconds(), ...(real ? real.verifySeconds : {}) },
    models: src.models.status(),
    gpuModels: { resident: src.models.gpuResident, peak: src.models.gpuResidentPeak },
    loadRetries: src.models.loadRetryStats(),
    downloads: src.downloads?.downloadStats() ?? {},
    requestIds: src.engine.requestIds.slice(0, MAX_IDS),
    counters: {
      promptTokens: c.promptTokens,
      generationTokens: c.generationTokens,
      preemptions: c.preemptions,
      requestsFinished: c.requestsFinished,
      oomErrors: c.oomErrors,
      framesRejected: { ...src.framesRejected },
    },
  };
}

export class HeartbeatLoop {
  private seq = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly path: string;

  constructor(
    stateDir: string,
    private readonly clock: Clock,
    private readonly src: HeartbeatSources,
    private readonly beforeBeat: () => Promise<void>,
  ) {
    this.path = join(stateDir, STATE_FILES.heartbeat);
  }

  start(): Promise<void> {
    return this.beat();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  /** Writes one heartbeat now (also used for the final beat at shutdown). */
  async writeNow(): Promise<void> {
    const hb = buildHeartbeat(this.src, ++this.seq, this.clock.now());
    await writeFileAtomic(dirname(this.path), basename(this.path), JSON.stringify(hb));
  }

  private async beat(): Promise<void> {
    try {
      await this.beforeBeat();
      await this.writeNow();
    } catch (e) {
      process.stderr.write(`worker: heartbeat write failed: ${String(e)}\n`);
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.beat(), this.src.intervalMs);
  }
}
