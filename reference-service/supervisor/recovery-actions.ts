/**
 * The recovery ladders' actions on the supervised worker (policies/pipeline.ts RecoveryActions):
 * clearing the GPU cache unloads the idle GPU models the worker reported in its last heartbeat
 * (what torch.cuda.empty_cache() gives back is memory nobody uses; here that is an idle model's
 * weights in the simulated VRAM ledger), and waiting for the pipeline polls the supervisor until
 * its worker is serving again. Restarting is the supervisor's job, with its own backoff and
 * budget; a ladder step that restarted workers per request would defeat them.
 */
import type { Clock } from "../../common/clock.js";
import type { SpoolBackend } from "../ipc/spool-client.js";
import type { RecoveryActions } from "../policies/pipeline.js";
import type { WorkerSupervisor } from "./supervisor.js";

export function workerRecoveryActions(
  supervisor: WorkerSupervisor,
  spool: SpoolBackend,
  clock: Clock,
  pollMs: number,
): RecoveryActions {
  const serving = (): boolean => {
    const s = supervisor.status();
    const seen = spool.workerStatus();
    return (
      s.state === "running" &&
      s.heartbeat?.phase === "ready" &&
      seen.ok &&
      seen.heartbeat.pid === s.heartbeat.pid
    );
  };
  return {
    async clearGpuCache(keep, signal) {
      const idle = (supervisor.status().heartbeat?.models ?? []).filter(
        (m) => m.device === "gpu" && m.state === "ready" && m.refCount === 0 && m.name !== keep,
      );
      for (const m of idle) await spool.unloadModel(m.name, signal);
      return idle.map((m) => m.name);
    },
    async waitForWorker(ms, signal) {
      const until = clock.monotonic() + ms;
      while (!serving()) {
        // Past its restart budget, or shutting down: no worker is coming back to wait for.
        if (["given-up", "stopping", "stopped"].includes(supervisor.status().state)) return false;
        const left = until - clock.monotonic();
        if (left <= 0) return false;
        await clock.sleep(Math.min(pollMs, left), signal);
      }
      return true;
    },
  };
}
