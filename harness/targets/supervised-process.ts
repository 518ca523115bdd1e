import type { ChildProcess } from "node:child_process";
import type { Clock, TimerHandle } from "../../common/clock.js";
import { isSignalablePid, killChild } from "../../common/safe-kill.js";
import type { StartedMark } from "../faults/started.js";
import { nextConsecutive, restartDelayMs, type RestartPolicy } from "./restart-policy.js";

export interface SupervisedOptions {
  /** Spawns a fresh process (first start and every restart). */
  spawn(): ChildProcess;
  /** Resolves when the fresh process is serving; rejects if it cannot (it is then killed). */
  waitReady(child: ChildProcess): Promise<void>;
  readonly policy: RestartPolicy;
  /** Restart after an unexpected exit (a container's restart policy); false: stay down. */
  readonly restart: boolean;
  readonly clock: Clock;
  readonly onEvent: (message: string) => void;
  /**
   * Journals every fresh process as it starts (see faults/started.ts); its mark is forgotten
   * when that process exits, and `stop` waits for that, so a stopped target leaves no entry.
   */
  readonly track?: (child: ChildProcess) => Promise<StartedMark | null>;
}

/**
 * Keeps one process running the way a container runtime would: an exit that nobody asked for
 * is followed by a restart after the policy's delay, and both are reported as events so the
 * run record shows when the process went down and when it was back.
 */
export class SupervisedProcess {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private consecutive = 0;
  private stopping = false;
  private pendingRestart: TimerHandle | undefined;
  private intentional = new WeakSet<ChildProcess>();
  private restarting: Promise<void> | null = null;
  /** Journal entries being cleared for processes that exited. */
  private forgetting = new Set<Promise<void>>();

  constructor(private readonly opts: SupervisedOptions) {}

  pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** First start: rejects (and leaves nothing running) when the process does not become ready. */
  async start(): Promise<void> {
    await this.launch();
  }

  private async launch(): Promise<void> {
    const child = this.opts.spawn();
    this.child = child;
    // Not awaited first: waitReady may read the child's first output line, which must not be
    // emitted before it listens.
    const tracked = this.opts.track?.(child) ?? Promise.resolve(null);
    child.once("exit", (code, signal) => {
      const forgot = tracked.then((mark) => mark?.forget()).catch(() => undefined);
      this.forgetting.add(forgot);
      void forgot.finally(() => this.forgetting.delete(forgot));
      this.onExit(child, code, signal);
    });
    try {
      await this.opts.waitReady(child);
      await tracked;
    } catch (e) {
      this.intentional.add(child);
      killHard(child);
      throw e;
    }
    this.startedAt = this.opts.clock.monotonic();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = null;
    if (this.intentional.has(child) || this.stopping) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code ?? "?"}`;
    const uptime = this.opts.clock.monotonic() - this.startedAt;
    if (!this.opts.restart) {
      this.opts.onEvent(`process ${child.pid ?? "?"} ${how}; restart policy "never": staying down`);
      return;
    }
    this.scheduleRestart(`process ${child.pid ?? "?"} ${how}`, uptime);
  }

  private scheduleRestart(why: string, uptimeMs: number): void {
    this.consecutive = nextConsecutive(this.opts.policy, this.consecutive, uptimeMs);
    const delay = restartDelayMs(this.opts.policy, this.consecutive);
    this.opts.onEvent(`${why}; restarting in ${delay} ms`);
    this.pendingRestart = this.opts.clock.setTimeout(() => void this.relaunch(), delay);
  }

  private relaunch(): Promise<void> {
    this.restarting ??= this.launch()
      .then(() => this.opts.onEvent(`process restarted as pid ${this.child?.pid ?? "?"}`))
      .catch((e: unknown) => {
        if (!this.stopping) this.scheduleRestart(`restart failed: ${(e as Error).message}`, 0);
      })
      .finally(() => {
        this.restarting = null;
      });
    return this.restarting;
  }

  /** Graceful restart on request: SIGTERM, wait for the exit (drain), start again at once. */
  async restartNow(timeoutMs: number): Promise<void> {
    const child = this.child;
    if (child) {
      this.intentional.add(child);
      await terminate(child, timeoutMs);
    }
    if (this.stopping) return;
    this.opts.onEvent("graceful restart requested");
    await this.relaunch();
  }

  /** Stops for good: SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.opts.clock.clearTimeout(this.pendingRestart);
    await this.restarting?.catch(() => undefined);
    const child = this.child;
    if (child) await terminate(child, timeoutMs);
    await Promise.all([...this.forgetting]);
  }
}

function killHard(child: ChildProcess): void {
  killChild(child, "SIGKILL");
}

/**
 * SIGTERM, wait up to timeoutMs for the exit, then SIGKILL. Uses real time: it bounds a real
 * process. A child that never got a pid (its spawn failed) has nothing to stop: signalling it
 * would reach pid 0, the harness's own process group.
 */
export function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  if (!isSignalablePid(child.pid)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => killChild(child, "SIGKILL"), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    killChild(child, "SIGTERM");
  });
}
