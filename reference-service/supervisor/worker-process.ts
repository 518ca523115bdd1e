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
}

export type SpawnWorker = () => WorkerHandle;

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
}

export function spawnWorkerProcess(
  stateDir: string,
  config: WorkerConfigInput,
  stderr: "inherit" | "ignore" = "inherit",
): SpawnWorker {
  return () => {
    const child = spawnModule(WORKER_ENTRY, workerArgs(stateDir, config), {
      stdio: ["ignore", "ignore", stderr],
      detached: true,
    });
    child.on("error", () => undefined);
    return new ChildWorker(child);
  };
}
