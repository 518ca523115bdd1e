/** The heartbeat's view of the worker, as the API process's Prometheus metrics. */
import type { Heartbeat } from "../ipc/protocol.js";
import type { ServiceMetrics } from "./registry.js";

/**
 * Worker-reported state mirrored into metrics: VRAM, model states, GPU models resident, frames
 * the worker rejected, retried loads, model downloads. The worker's counts start over with each worker process.
 */
/** What a heartbeat says happened to a model's download since the same worker's last beat. */
export type DownloadOutcome = "attempt-failed" | "downloaded" | "gave-up";

export function heartbeatToMetrics(
  metrics: ServiceMetrics,
  onDownload?: (model: string, outcome: DownloadOutcome, count: number) => void,
): (hb: Heartbeat) => void {
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
    for (const [model, d] of Object.entries(hb.downloads)) {
      // Every outcome scrapes from the first attempt on (0 included), so "never downloaded" is a value.
      for (const outcome of ["ok", "failed"]) metrics.modelDownloadAttempts.inc({ model, outcome }, 0);
      for (const outcome of ["downloaded", "failed"]) metrics.modelDownloads.inc({ model, outcome }, 0);
      const add = (key: string, count: number, inc: (delta: number) => void): void => {
        const delta = grew(`downloads:${model}:${key}`, count);
        if (delta > 0) inc(delta);
      };
      add("attempt-ok", d.attemptsOk, (n) => metrics.modelDownloadAttempts.inc({ model, outcome: "ok" }, n));
      add("attempt-failed", d.attemptsFailed, (n) => {
        metrics.modelDownloadAttempts.inc({ model, outcome: "failed" }, n);
        onDownload?.(model, "attempt-failed", n);
      });
      add("run-ok", d.runsOk, (n) => {
        metrics.modelDownloads.inc({ model, outcome: "downloaded" }, n);
        onDownload?.(model, "downloaded", n);
      });
      add("run-failed", d.runsFailed, (n) => {
        metrics.modelDownloads.inc({ model, outcome: "failed" }, n);
        onDownload?.(model, "gave-up", n);
      });
      for (const [i, ms] of d.waitsMs.entries())
        metrics.modelDownloadRetryWait.set({ model, attempt: String(i + 2) }, ms / 1000);
    }
  };
}
