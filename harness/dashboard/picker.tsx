import { Box, Text } from "ink";
import { fit } from "./format.js";
import { targetsFor, type PickerContext, type PickerState } from "./keys.js";

/** Rows the picker may take: it replaces the SLO and fault sections (10 lines) while open. */
const LIST_ROWS = 8;

/** The `LIST_ROWS` items around `index`, so the selection is always visible. */
export function windowAround<T>(
  items: readonly T[],
  index: number,
  rows = LIST_ROWS,
): { start: number; items: T[] } {
  const start = Math.max(0, Math.min(index - Math.floor(rows / 2), items.length - rows));
  return { start, items: items.slice(start, start + rows) };
}

function List(props: { readonly title: string; readonly items: readonly string[]; readonly index: number }) {
  const { start, items } = windowAround(props.items, props.index);
  return (
    <>
      <Text bold>{props.title}</Text>
      {items.map((item, i) => {
        const selected = start + i === props.index;
        return (
          <Text key={item} inverse={selected} wrap="truncate">
            {selected ? "> " : "  "}
            {fit(item, 76)}
          </Text>
        );
      })}
      {props.items.length === 0 ? <Text> (none in this run)</Text> : null}
    </>
  );
}

function Input(props: {
  readonly title: string;
  readonly label: string;
  readonly text: string;
  readonly hint: string;
  readonly error: string | null;
}) {
  return (
    <>
      <Text bold>{props.title}</Text>
      <Text wrap="truncate">
        {props.label}: {props.text}_
      </Text>
      <Text dimColor>{props.hint}</Text>
      {props.error === null ? null : <Text color="red">{fit(`error: ${props.error}`, 80)}</Text>}
    </>
  );
}

/** The `f` picker: kind, then target, then params, then how long to hold. */
export function Picker(props: { readonly state: PickerState; readonly ctx: PickerContext }) {
  const { state, ctx } = props;
  switch (state.step) {
    case "closed":
      return null;
    case "kind": {
      const names = Object.keys(ctx.kinds);
      const items = names.map((n) => `${n.padEnd(16)} ${ctx.kinds[n]?.summary ?? ""}`);
      return (
        <Box flexDirection="column" width={80}>
          <List
            title={`Inject a fault: kind (${state.index + 1}/${names.length})`}
            items={items}
            index={state.index}
          />
        </Box>
      );
    }
    case "target":
      return (
        <Box flexDirection="column" width={80}>
          <List
            title={`Inject ${state.kind}: target`}
            items={targetsFor(ctx.kinds[state.kind], ctx.targets)}
            index={state.index}
          />
        </Box>
      );
    case "params":
      return (
        <Box flexDirection="column" width={80}>
          <Input
            title={`Inject ${state.kind} on ${state.target}`}
            label="params"
            text={state.text}
            hint="a YAML mapping, e.g. {multiplier: 2}; Enter next, Esc back"
            error={state.error}
          />
        </Box>
      );
    case "duration":
      return (
        <Box flexDirection="column" width={80}>
          <Input
            title={`Inject ${state.kind} on ${state.target}`}
            label="hold for"
            text={state.text}
            hint='e.g. "30s"; empty holds it until the run stops; Enter injects, Esc back'
            error={state.error}
          />
        </Box>
      );
    default: {
      const never: never = state;
      return never;
    }
  }
}
