import { useInput } from "ink";
import { useEffect, useMemo, useRef, useState } from "react";
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { Phase } from "./components.js";
import { Frame } from "./frame.js";
import {
  CLOSED,
  handleKey,
  type Command,
  type KeyPress,
  type PickerContext,
  type PickerState,
} from "./keys.js";
import type { DashboardControls, DashboardSource } from "./types.js";

export interface LiveDashboardProps {
  readonly source: DashboardSource;
  readonly controls: DashboardControls;
  readonly clock: Clock;
  readonly periodMs: number;
  readonly pickerContext: PickerContext;
  /** The run is over (its faults already rolled back): draw one last, fresh frame. */
  readonly ended?: boolean;
}

const ENDED_MESSAGE = "run over: writing the record";

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Reads the source on its own period (the load loop never waits on the screen) and maps keys
 * to controls through the pure handleKey. The picker state lives in a ref as well as in React
 * state because several keys can arrive in one chunk, before a re-render.
 */
export function LiveDashboard(props: LiveDashboardProps) {
  const { source, controls, clock, periodMs } = props;
  const [frame, setFrame] = useState(() => source.read());
  const [picker, setPicker] = useState<PickerState>(CLOSED);
  const [phase, setPhase] = useState<Phase>("running");
  const [message, setMessage] = useState<string | null>(null);
  const pickerRef = useRef<PickerState>(CLOSED);
  const phaseRef = useRef<Phase>("running");
  // Read during render, not in an effect: the screen is unmounted right after this render.
  const last = useMemo(() => (props.ended ? source.read() : null), [props.ended, source]);

  useEffect(() => {
    let timer: TimerHandle | undefined;
    const tick = (): void => {
      setFrame(source.read());
      timer = clock.setTimeout(tick, periodMs);
    };
    timer = clock.setTimeout(tick, periodMs);
    return () => clock.clearTimeout(timer);
  }, [source, clock, periodMs]);

  const run = (c: Command): void => {
    switch (c.type) {
      case "stop":
        if (phaseRef.current !== "running") return;
        phaseRef.current = "stopping";
        setPhase("stopping");
        setMessage("stopping: rolling faults back and writing the record");
        controls.stopGracefully();
        return;
      case "abort":
        phaseRef.current = "aborting";
        setPhase("aborting");
        setMessage("aborting now: rolling faults back");
        controls.abortNow();
        return;
      case "toggle-pause":
        setMessage(controls.togglePause() ? "fault timeline paused" : "fault timeline resumed");
        setFrame(source.read());
        return;
      case "inject": {
        const what = `${c.kind} on ${c.target}`;
        setMessage(`injecting ${what}...`);
        controls.injectFault(c.kind, c.target, c.params, c.durationMs).then(
          () => setMessage(`injected ${what}`),
          (e: unknown) => setMessage(`inject failed: ${errorText(e)}`),
        );
        return;
      }
      default: {
        const never: never = c;
        return never;
      }
    }
  };

  useInput((input, key) => {
    const press: KeyPress = {
      input,
      up: key.upArrow,
      down: key.downArrow,
      enter: key.return,
      escape: key.escape,
      backspace: key.backspace || key.delete,
      ctrl: key.ctrl,
    };
    const result = handleKey(pickerRef.current, press, props.pickerContext);
    pickerRef.current = result.picker;
    setPicker(result.picker);
    if (result.command) run(result.command);
  });

  return (
    <Frame
      frame={last ?? frame}
      phase={last ? "ended" : phase}
      picker={last ? CLOSED : picker}
      pickerContext={props.pickerContext}
      message={last ? ENDED_MESSAGE : message}
    />
  );
}
