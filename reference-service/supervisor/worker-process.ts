/**
 * The worker as an OS process, behind a small handle so the supervisor's timing can be tested
 * with a fake one. The real one follows the worker's spawn contract (ipc/protocol.ts) and puts the
 * worker in its own process group, so the harness can SIGKILL/SIGSTOP it alone and a kill
 * reaches anything it started.
 */
import type { ChildProcess } from "node:child_process";
import { isSignalablePid, killChild, killGroup } from "../../common/safe-kill.js";
import { spawnModule } from "../../common/spawn-module.js";
import { WORKER_ENTRY, workerArgs, type WorkerConfigInput } from "../ipc/protocol.js";

export interface WorkerHandle {
  readonly pid: number;
  /** Signals the worker's whole process group. */
  kill(signal: NodeJS.Signals): void;
  /** Called once when the process has exited. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  readonly exited: boolean;
  /**
   * A standby worker (spawned with `standby`) starts serving now: true if it was told, false
   * when it cannot be (gone, or not a standby). Absent on handles that have no standby mode.
   */
  activate?(): boolean;
}

/** Spawns a worker that starts at once, or with `standby` one that waits for `activate()`. */
export type SpawnWorker = (standby?: boolean) => WorkerHandle;

class ChildWorker implements WorkerHandle {
  private done = false;
  private readonly listeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];

  constructor(private readonly child: ChildProcess) {
    child.once("exit", (code, signal) => {
      this.done = true;
      for (const l of this.listeners) l(code, signal);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.done;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.done || !isSignalablePid(this.child.pid)) return;
    try {
      if (killGroup(this.child.pid, signal)) return;
    } catch {
      // fall through: signal the process itself
    }
    // The group may be gone already (race with exit): signal the process itself.
    killChild(this.child, signal);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    if (this.done) listener(this.child.exitCode, this.child.signalCode);
    else this.listeners.push(listener);
  }

  activate(): boolean {
    const stdin = this.child.stdin;
    if (this.done || !stdin || stdin.destroyed || !isSignalablePid(this.child.pid)) return false;
    stdin.end("start\n");
    return true;
  }
}

export function spawnWorkerProcess(
  stateDir: string,
  config: WorkerConfigInput,
  stderr: "inherit" | "ignore" = "inherit",
): SpawnWorker {
  return (standby = false) => {
    const args = workerArgs(stateDir, config);
    const child = spawnModule(WORKER_ENTRY, standby ? [...args, "--standby"] : args, {
      // A standby waits for its start line on stdin, and ends when the pipe does (API gone).
      stdio: [standby ? "pipe" : "ignore", "ignore", stderr],
      detached: true,
    });
    child.on("error", () => undefined);
    // The worker closes its end once started: a late write must not be an uncaught EPIPE.
    child.stdin?.on("error", () => undefined);
    return new ChildWorker(child);
  };
}
