import type { Runtime } from "../../common/runtime.js";
import { ROUTES } from "../targets/protocol.js";
import type { FaultScheduler } from "../faults/scheduler.js";
import type { LoadHandle, LoadPlan } from "../load/index.js";
import type { SloSpec } from "../sla/index.js";
import { dashboardControlsFrom } from "./controls.js";
import { HealthPoller } from "./health.js";
import { dashboardSourceFrom } from "./source.js";
import { startDashboard, type DashboardHandle } from "./start.js";

export interface AttachInput {
  readonly rt: Pick<Runtime, "stdout" | "stdin" | "clock">;
  readonly title: string;
  readonly slos: readonly SloSpec[];
  readonly load: LoadHandle;
  readonly plan: LoadPlan;
  /** null for a game day (no planned end). */
  readonly plannedMs: number | null;
  readonly scheduler: FaultScheduler;
  /** Target names faults may aim at (the scheduler's target keys), for the picker. */
  readonly targets: readonly string[];
  /** Base URL of a target that serves the contract's /health/ready and /metrics; null: none. */
  readonly healthBaseUrl: string | null;
  /** q / Ctrl-C: what SIGINT does (stop the load, revert, write the record). */
  readonly stop: () => void;
  /** a: stop now; defaults to stop. */
  readonly abort?: () => void;
}

/** Whether a dashboard belongs on this terminal: both ends a TTY and not turned off. */

/**
 * Everything the runner needs in one call, once the load's time origin is set: a health poller
 * on its own period, the source and controls over the live objects, and the screen. stop()
 * gives the terminal back and ends the poller.
 */
export function attachDashboard(input: AttachInput): DashboardHandle {
  const base = input.healthBaseUrl;
  const health =
    base === null
      ? null
      : new HealthPoller({
          metricsUrl: `${base}${ROUTES.metrics}`,
          readyUrl: `${base}${ROUTES.ready}`,
          clock: input.rt.clock,
        });
  health?.start();
  const screen = startDashboard(
    dashboardSourceFrom({
      title: input.title,
      load: input.load,
      plan: input.plan,
      plannedMs: input.plannedMs,
      scheduler: input.scheduler,
      slos: input.slos,
      ...(health ? { health: () => health.view() } : {}),
    }),
    dashboardControlsFrom({
      scheduler: input.scheduler,
      stop: input.stop,
      ...(input.abort ? { abort: input.abort } : {}),
    }),
    { stdout: input.rt.stdout, stdin: input.rt.stdin, clock: input.rt.clock },
    { targets: input.targets },
  );
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= Promise.all([screen.stop(), health?.stop()]).then(() => undefined);
      return stopping;
    },
  };
}
