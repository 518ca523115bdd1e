/**
 * The API side's view of the worker: polls heartbeat.json and checks that the pid in it is a
 * live process, so that a SIGKILLed worker is noticed within one poll (its last heartbeat
 * still looks fresh for up to the stale bound) and a hung one once its heartbeat goes stale.
 * Staleness counts only from when this monitor was itself polling (common/local-pause.ts):
 * after a `docker pause` of the whole container, the first poll would otherwise find every
 * heartbeat stale and fail every in-flight call, enough to open the breaker on a healthy
 * worker.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import { LocalPauseDetector, pauseThresholdMs } from "../../common/local-pause.js";
import { readHeartbeat, type Heartbeat, type HeartbeatRead } from "./protocol.js";

export type WorkerStatus =
  | { readonly ok: true; readonly heartbeat: Heartbeat; readonly ageMs: number }
  | { readonly ok: false; readonly reason: string; readonly heartbeat: Heartbeat | undefined };

export interface HeartbeatMonitorOptions {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly pollMs: number;
  readonly staleMs: number;
  readonly isPidAlive: (pid: number) => boolean;
  /** Called after every poll (the client checks its in-flight calls here). */
  readonly onPoll: (read: HeartbeatRead) => void;
}

export function isPidAlive(pid: number): boolean {
  // pid 0 or a negative pid would ask about a whole group, not one worker.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

export class HeartbeatMonitor {
  private last: HeartbeatRead | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly dead = new Set<number>();
  private readonly pause: LocalPauseDetector;

  constructor(private readonly o: HeartbeatMonitorOptions) {
    this.pause = new LocalPauseDetector(o.clock, pauseThresholdMs(o.pollMs, o.staleMs));
  }

  async start(): Promise<void> {
    await this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
  }

  latest(): HeartbeatRead | undefined {
    return this.last;
  }

  /** Marks a worker pid as gone (the supervisor saw it exit) before any heartbeat says so. */
  markDead(pid: number): void {
    this.dead.add(pid);
  }

  /**
   * Whether a worker can take new requests now, and why not. With `forNewWork` false a
   * draining worker still counts as ok: it finishes what it has.
   */
  status(forNewWork = true): WorkerStatus {
    const read = this.last;
    if (!read) return { ok: false, reason: "no heartbeat read yet", heartbeat: undefined };
    if (!read.ok) return { ok: false, reason: `worker heartbeat ${read.reason}`, heartbeat: undefined };
    const hb = read.heartbeat;
    const ageMs = Math.max(0, this.o.clock.now() - hb.atMs);
    if (this.dead.has(hb.pid) || !this.o.isPidAlive(hb.pid)) {
      this.dead.add(hb.pid);
      return { ok: false, reason: `worker process ${hb.pid} is gone`, heartbeat: hb };
    }
    if (this.pause.staleFor(hb.atMs) > this.o.staleMs) {
      return { ok: false, reason: `worker heartbeat is stale (${ageMs} ms old)`, heartbeat: hb };
    }
    if (forNewWork && hb.phase === "draining")
      return { ok: false, reason: "worker is draining", heartbeat: hb };
    return { ok: true, heartbeat: hb, ageMs };
  }

  private async poll(): Promise<void> {
    this.pause.tick();
    const read = await readHeartbeat(this.o.stateDir, this.o.clock.now());
    // A torn or half-written file cannot happen (atomic rename), but a missing/garbled one can
    // (faults, a restart): keep the last good beat then, so its age keeps growing and goes stale.
    if (read.ok || !this.last?.ok || read.reason === "missing") this.last = read;
    try {
      this.o.onPoll(read);
    } catch (e) {
      process.emitWarning(`heartbeat poll handler threw: ${String(e)}`);
    }
    if (!this.stopped) this.timer = this.o.clock.setTimeout(() => void this.poll(), this.o.pollMs);
  }
}
