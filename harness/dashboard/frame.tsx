import { Box } from "ink";
import { Budget, Header, Health, Keys, Levels, Message, Slos, Traffic, type Phase } from "./components.js";
import { Faults } from "./fault-rows.js";
import type { PickerContext, PickerState } from "./keys.js";
import { Picker } from "./picker.js";
import type { DashboardFrame } from "./types.js";

export interface FrameProps {
  readonly frame: DashboardFrame;
  readonly phase: Phase;
  readonly picker: PickerState;
  readonly pickerContext: PickerContext;
  readonly message: string | null;
}

/** One whole screen (at most 22 lines of 80 columns): a pure function of its props. */
export function Frame(props: FrameProps) {
  const { frame, picker } = props;
  const picking = picker.step !== "closed";
  return (
    <Box flexDirection="column" width={80}>
      <Header frame={frame} phase={props.phase} />
      <Traffic frame={frame} />
      <Budget budget={frame.budget} />
      <Levels uptime={frame.uptime} lastFault={frame.lastFault} />
      {picking ? (
        <Picker state={picker} ctx={props.pickerContext} />
      ) : (
        <>
          <Slos slos={frame.slos} />
          <Faults timeline={frame.timeline} />
        </>
      )}
      <Health health={frame.health} />
      <Message text={props.message} />
      <Keys paused={frame.timeline.paused} picking={picking} />
    </Box>
  );
}
