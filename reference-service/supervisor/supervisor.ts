/**
 * Keeps one model worker running. Restarts it when it exits, or when its heartbeat goes stale
 * (hung, e.g. SIGSTOPped: SIGKILL then respawn), or when a fresh worker never sends its first
 * heartbeat; with backoff, cooldown and a budget (RestartPolicy). Past the budget it stays
 * down and says so. It only reads the heartbeat file; it writes nothing in the spool.
 * All timing runs on the injected Clock.
 *
 * A heartbeat's staleness counts only from when the supervisor itself was running to see it
 * (common/local-pause.ts): without that, every `docker pause` longer than hungAfterMs killed
 * a healthy worker and sent the requests it held to the fallbacks
 * (scenarios/docker/02-container-pause.yaml).
 *
 * With `standby`, a spare worker waits beside the serving one (spawned once that one is ready,
 * its modules loaded, nothing of the state dir touched, worker/main.ts --standby): a restart
 * starts the spare instead of a new process, so it skips Node's start and the module loading.
 * Restart timing (backoff, cooldown, budget) is unchanged: only what a restart does is cheaper.
 * With `watchHeartbeat`, a heartbeat file change of a worker not yet seen ready is read at once
 * instead of at the next check: a start is noticed when it happens, not up to a check later.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { Heartbeat, HeartbeatRead } from "../ipc/protocol.js";
import { LocalPauseDetector, pauseThresholdMs } from "../../common/local-pause.js";
import { RestartPolicy, type RestartPolicyOptions } from "./restart-policy.js";
import type { SpawnWorker, WorkerHandle } from "./worker-process.js";

export type SupervisorState = "starting" | "running" | "restarting" | "given-up" | "stopping" | "stopped";
export type RestartCause = "exit" | "crash" | "hung" | "start_timeout";

export interface SupervisorOptions extends RestartPolicyOptions {
  readonly hungAfterMs: number;
  readonly startTimeoutMs: number;
  readonly checkIntervalMs: number;
  readonly stopTimeoutMs: number;
  /** Keep a spare worker started up to its modules, to restart into (off when absent). */
  readonly standby?: boolean;
}

export interface SupervisorEvents {
  restart?(cause: RestartCause, delayMs: number): void;
  giveUp?(reason: string): void;
  heartbeat?(hb: Heartbeat): void;
  workerUp?(up: boolean): void;
  /** The worker process `pid` has exited (whatever the reason). */
  workerExit?(pid: number): void;
}

export interface SupervisorStatus {
  readonly state: SupervisorState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly restartsInWindow: number;
  readonly lastRestartCause: RestartCause | null;
  /** Age of the current worker's last heartbeat, null before its first. */
  readonly lastHeartbeatMs: number | null;
  readonly heartbeat: Heartbeat | null;
  readonly reason: string;
}

export class WorkerSupervisor {
  private worker: WorkerHandle | undefined;
  private state: SupervisorState = "stopped";
  private reason = "not started";
  private restarts = 0;
  private lastCause: RestartCause | null = null;
  private killCause: RestartCause | undefined;
  private spawnedAt = 0;
  private heartbeat: Heartbeat | null = null;
  private checkTimer: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  private checking = false;
  /** A heartbeat change arrived while a check was reading: read again when it ends. */
  private recheck = false;
  private standby: WorkerHandle | undefined;
  /** The worker the current standby was spawned beside: one spare per worker's life. */
  private standbyFor: WorkerHandle | undefined;
  private unwatch: (() => void) | undefined;
  private restartAt = 0;
  private readonly policy: RestartPolicy;
  private readonly pause: LocalPauseDetector;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly spawnWorker: SpawnWorker,
    private readonly readHeartbeat: (nowMs: number) => Promise<HeartbeatRead>,
    private readonly clock: Clock,
    private readonly events: SupervisorEvents = {},
    /** Calls `changed` when the heartbeat file changes; returns how to stop. Optional (polls only). */
    private readonly watchHeartbeat?: (changed: () => void) => () => void,
  ) {
    this.policy = new RestartPolicy(options, clock);
    this.pause = new LocalPauseDetector(
      clock,
      pauseThresholdMs(options.checkIntervalMs, options.hungAfterMs),
    );
  }

  start(): void {
    this.unwatch = this.watchHeartbeat?.(() => this.heartbeatChanged());
    this.spawn();
    this.scheduleCheck();
  }

  /** The heartbeat file changed: until the worker is seen ready, read it now. */
  private heartbeatChanged(): void {
    const awaited =
      this.state === "starting" || (this.state === "running" && this.heartbeat?.phase !== "ready");
    if (!awaited) return;
    if (this.checking) this.recheck = true;
    else void this.check();
  }

  status(): SupervisorStatus {
    const hb = this.heartbeat;
    return {
      state: this.state,
      pid: this.worker && !this.worker.exited ? this.worker.pid : null,
      restarts: this.restarts,
      restartsInWindow: this.policy.restartsInWindow,
      lastRestartCause: this.lastCause,
      lastHeartbeatMs: hb ? Math.max(0, this.clock.now() - hb.atMs) : null,
      heartbeat: hb,
      reason: this.reason,
    };
  }

  /** ms until the next restart attempt while restarting; 0 otherwise (feeds Retry-After). */
  msUntilRestart(): number {
    return this.state === "restarting" ? Math.max(0, this.restartAt - this.clock.monotonic()) : 0;
  }

  private spawn(): void {
    this.heartbeat = null;
    this.killCause = undefined;
    const worker = this.takeStandby() ?? this.spawnWorker();
    this.worker = worker;
    this.spawnedAt = this.clock.monotonic();
    this.policy.started();
    this.state = "starting";
    this.reason = `worker ${worker.pid} starting`;
    worker.onExit((code, signal) => this.exited(worker, code, signal));
  }

  /** The standby, started, if there is one that can start; a spare that cannot is ended. */
  private takeStandby(): WorkerHandle | undefined {
    const spare = this.standby;
    this.standby = undefined;
    if (!spare || spare.exited) return undefined;
    if (spare.activate?.()) return spare;
    spare.kill("SIGKILL");
    return undefined;
  }

  /** Once per worker's life, when it is ready: a spare for the next restart. */
  private prepareStandby(): void {
    const worker = this.worker;
    if (!this.options.standby || !worker || this.standbyFor === worker || this.state !== "running") return;
    this.standbyFor = worker;
    if (this.standby && !this.standby.exited) return; // the previous one is still waiting
    const spare = this.spawnWorker(true);
    this.standby = spare;
    spare.onExit(() => {
      if (this.standby === spare) this.standby = undefined;
    });
  }

  private exited(worker: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker !== this.worker) return;
    this.events.workerExit?.(worker.pid);
    this.events.workerUp?.(false);
    if (this.state === "stopping" || this.state === "stopped") return;
    const cause: RestartCause = this.killCause ?? (code === 0 ? "exit" : "crash");
    const how = signal ? `signal ${signal}` : `code ${String(code)}`;
    this.afterFailure(cause, `worker ${worker.pid} ended (${how}, cause ${cause})`);
  }

  private afterFailure(cause: RestartCause, what: string): void {
    this.lastCause = cause;
    const decision = this.policy.decide();
    switch (decision.action) {
      case "restart":
        this.state = "restarting";
        this.reason = `${what}; restarting in ${decision.delayMs} ms (attempt ${decision.attempt})`;
        this.restarts++;
        this.restartAt = this.clock.monotonic() + decision.delayMs;
        this.events.restart?.(cause, decision.delayMs);
        this.restartTimer = this.clock.setTimeout(() => {
          this.restartTimer = undefined;
          if (this.state === "restarting") this.spawn();
        }, decision.delayMs);
        return;
      case "give-up":
        this.state = "given-up";
        this.reason = `${what}; ${decision.reason}; not restarting`;
        this.events.giveUp?.(this.reason);
        return;
      default: {
        const never: never = decision;
        return never;
      }
    }
  }

  private scheduleCheck(): void {
    this.checkTimer = this.clock.setTimeout(() => {
      void this.check().finally(() => {
        if (this.state !== "stopping" && this.state !== "stopped") this.scheduleCheck();
      });
    }, this.options.checkIntervalMs);
  }

  /** One watchdog pass: read the heartbeat, judge the current worker. */
  async check(): Promise<void> {
    const worker = this.worker;
    if (this.checking || !worker || worker.exited || this.killCause) return;
    if (this.state !== "starting" && this.state !== "running") return;
    this.pause.tick();
    this.checking = true;
    try {
      const read = await this.readHeartbeat(this.clock.now());
      if (worker !== this.worker || worker.exited) return;
      if (read.ok && read.heartbeat.pid === worker.pid) this.seen(read.heartbeat);
      this.judge(worker);
    } finally {
      this.checking = false;
      if (this.recheck) {
        this.recheck = false;
        void this.check();
      }
    }
  }

  /**
   * Reads the heartbeat now, outside the watchdog's pass, so that a model operation the worker
   * has just acknowledged (it writes a heartbeat first) is seen by the next request rather than
   * after the next poll. Never judges the worker; an older or foreign heartbeat is ignored.
   */
  async refreshHeartbeat(): Promise<void> {
    const worker = this.worker;
    if (!worker || worker.exited) return;
    const read = await this.readHeartbeat(this.clock.now());
    if (worker !== this.worker || worker.exited || !read.ok || read.heartbeat.pid !== worker.pid) return;
    if (this.heartbeat && read.heartbeat.atMs < this.heartbeat.atMs) return;
    this.seen(read.heartbeat);
  }

  private seen(hb: Heartbeat): void {
    const first = this.heartbeat === null;
    this.heartbeat = hb;
    this.events.heartbeat?.(hb);
    if (first) this.events.workerUp?.(true);
    if (this.state === "starting") {
      this.state = "running";
      this.reason = `worker ${hb.pid} running`;
    }
    if (hb.phase === "ready") this.prepareStandby();
  }

  private judge(worker: WorkerHandle): void {
    const hb = this.heartbeat;
    if (hb) {
      const age = this.clock.now() - hb.atMs;
      if (this.pause.staleFor(hb.atMs) > this.options.hungAfterMs)
        this.kill(worker, "hung", `heartbeat ${age} ms old`);
      return;
    }
    const waited = this.clock.monotonic() - this.spawnedAt;
    if (this.pause.watchedSince(this.spawnedAt) > this.options.startTimeoutMs)
      this.kill(worker, "start_timeout", `no heartbeat after ${waited} ms`);
  }

  private kill(worker: WorkerHandle, cause: RestartCause, why: string): void {
    this.killCause = cause;
    this.reason = `worker ${worker.pid} ${cause}: ${why}; killing`;
    worker.kill("SIGKILL");
  }

  /** SIGTERM the worker (SIGKILL at once when `force`), SIGKILL after stopTimeoutMs; resolves once it has exited. */
  async stop(force = false): Promise<void> {
    this.clock.clearTimeout(this.checkTimer);
    this.clock.clearTimeout(this.restartTimer);
    this.unwatch?.();
    const worker = this.worker;
    this.state = "stopping";
    this.reason = "stopping";
    const spare = this.standby;
    this.standby = undefined;
    const spareGone = spare && !spare.exited ? new Promise<void>((r) => spare.onExit(() => r())) : undefined;
    // A spare holds no work: it ends at once.
    spare?.kill("SIGKILL");
    if (worker && !worker.exited) {
      const gone = new Promise<void>((resolve) => worker.onExit(() => resolve()));
      worker.kill(force ? "SIGKILL" : "SIGTERM");
      // A stopped (SIGSTOP) worker cannot act on SIGTERM; SIGCONT lets it, SIGKILL bounds it.
      worker.kill("SIGCONT");
      const timer = this.clock.setTimeout(() => worker.kill("SIGKILL"), this.options.stopTimeoutMs);
      await gone;
      this.clock.clearTimeout(timer);
    }
    await spareGone;
    this.state = "stopped";
    this.reason = "stopped";
  }
}
