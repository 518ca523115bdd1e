import { render } from "ink";
import type { Clock } from "../../common/clock.js";
import { FAULT_KINDS } from "../faults/registry.js";
import type { PickerContext } from "./keys.js";
import { LiveDashboard } from "./live.js";
import type { DashboardControls, DashboardSource, PickerKind } from "./types.js";

export interface DashboardRuntime {
  readonly stdout: NodeJS.WriteStream | NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  readonly clock: Clock;
}

export interface DashboardOptions {
  /** Target names of the run, for the picker (the scheduler's target keys). */
  readonly targets: readonly string[];
  /** How often the source is read (ms); default 500: two frames a second keep it under 5% of a core at 1,000 req/s (bench/dashboard). */
  readonly periodMs?: number;
  /** Fault kinds the picker offers; default the registry. */
  readonly kinds?: Readonly<Record<string, PickerKind>>;
}

export interface DashboardHandle {
  /** Draws the last frame and gives the terminal back; idempotent. */
  stop(): Promise<void>;
}

/**
 * Shows the live dashboard on a TTY. Keys go to `controls`; q / Ctrl-C is handled here (ink's
 * own exit on Ctrl-C is off) so that it means "stop gracefully", as the run's SIGINT does.
 */
export function startDashboard(
  source: DashboardSource,
  controls: DashboardControls,
  runtime: DashboardRuntime,
  options: DashboardOptions,
): DashboardHandle {
  const pickerContext: PickerContext = { kinds: options.kinds ?? FAULT_KINDS, targets: options.targets };
  const screen = (ended: boolean) => (
    <LiveDashboard
      source={source}
      controls={controls}
      clock={runtime.clock}
      periodMs={options.periodMs ?? 500}
      pickerContext={pickerContext}
      ended={ended}
    />
  );
  const instance = render(screen(false), {
    stdout: runtime.stdout as NodeJS.WriteStream,
    stdin: runtime.stdin as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    incrementalRendering: false,
    maxFps: 10,
  });
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        // Legacy (synchronous) rendering: this frame is committed before unmount draws it.
        instance.rerender(screen(true));
        instance.unmount();
        await instance.waitUntilExit();
      })();
      return stopping;
    },
  };
}
