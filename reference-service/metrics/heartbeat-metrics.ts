/** The heartbeat's view of the worker, as the API process's Prometheus metrics. */
import type { Heartbeat } from "../ipc/protocol.js";
import type { ServiceMetrics } from "./registry.js";

/**
 * Worker-reported state mirrored into metrics: VRAM, model states, GPU models resident, frames
 * the worker rejected, retried loads. The worker's counts start over with each worker process.
 */
export function heartbeatToMetrics(metrics: ServiceMetrics): (hb: Heartbeat) => void {
  const seen = new Map<string, number>();
  let seenPid = -1;
  let residentMax = 0;
  return (hb) => {
    metrics.vramUsed.set(hb.vram.usedBytes);
    metrics.vramTotal.set(hb.vram.totalBytes);
    metrics.kvCacheUsage.set(hb.kvUsage);
    for (const [model, s] of Object.entries(hb.loadSeconds)) metrics.modelLoadSeconds.set({ model }, s);
    for (const [model, s] of Object.entries(hb.verifySeconds)) metrics.modelVerifySeconds.set({ model }, s);
    metrics.modelState.reset();
    for (const m of hb.models) metrics.modelState.set({ model: m.name, state: m.state }, 1);
    metrics.gpuModelsResident.set(hb.gpuModels.resident);
    residentMax = Math.max(residentMax, hb.gpuModels.peak);
    metrics.gpuModelsResidentMax.set(residentMax);
    if (hb.pid !== seenPid) {
      seen.clear();
      seenPid = hb.pid;
    }
    // Counters: add what grew since the same worker's last beat.
    const grew = (key: string, count: number): number => {
      const delta = count - (seen.get(key) ?? 0);
      seen.set(key, count);
      return Math.max(0, delta);
    };
    for (const [kind, count] of Object.entries(hb.counters.framesRejected)) {
      const delta = grew(`frames:${kind}`, count);
      if (delta > 0) metrics.ipcFramesCorrupt.inc({ kind }, delta);
    }
    for (const [model, r] of Object.entries(hb.loadRetries)) {
      for (const outcome of ["loaded", "failed"] as const) {
        const delta = grew(`retries:${model}:${outcome}`, r[outcome]);
        if (delta > 0) metrics.modelLoadRetries.inc({ model, outcome }, delta);
      }
      if (r.loaded + r.failed > 0) metrics.modelLoadRetryWait.set({ model }, r.lastWaitMs / 1000);
    }
  };
}
