import { occurrenceError, type FaultScheduler } from "../faults/scheduler.js";
import type { DashboardControls } from "./types.js";

/**
 * Controls backed by the run's fault scheduler: a manual fault goes through injectNow, so it is
 * journaled, reverted and recorded like a planned one; stop and abort are the run's own.
 */
export function dashboardControlsFrom(parts: {
  readonly scheduler: Pick<FaultScheduler, "injectNow" | "pause" | "resume" | "paused">;
  /** Graceful stop: end the load, revert faults, write the record (as SIGINT does). */
  readonly stop: () => void;
  /** Immediate stop; faults are still reverted. Defaults to `stop`. */
  readonly abort?: () => void;
}): DashboardControls {
  const { scheduler } = parts;
  return {
    stopGracefully: parts.stop,
    abortNow: parts.abort ?? parts.stop,
    async injectFault(kind, target, params, durationMs) {
      const o = await scheduler.injectNow(kind, target, params, durationMs);
      if (o.status === "failed") throw new Error(occurrenceError(o) ?? "inject failed");
    },
    togglePause() {
      if (scheduler.paused) scheduler.resume();
      else scheduler.pause();
      return scheduler.paused;
    },
  };
}
