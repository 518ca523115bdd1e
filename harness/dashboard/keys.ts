import { parse as parseYaml } from "yaml";
import { parseDuration } from "../scenario/duration.js";
import type { PickerKind } from "./types.js";

/** One key press, as the dashboard needs it (ink's useInput is mapped to this). */
export interface KeyPress {
  readonly input: string;
  readonly up?: boolean;
  readonly down?: boolean;
  readonly enter?: boolean;
  readonly escape?: boolean;
  readonly backspace?: boolean;
  readonly ctrl?: boolean;
}

export type PickerState =
  | { readonly step: "closed" }
  | { readonly step: "kind"; readonly index: number }
  | { readonly step: "target"; readonly kind: string; readonly index: number }
  | {
      readonly step: "params";
      readonly kind: string;
      readonly target: string;
      readonly text: string;
      readonly error: string | null;
    }
  | {
      readonly step: "duration";
      readonly kind: string;
      readonly target: string;
      readonly params: Readonly<Record<string, unknown>>;
      readonly text: string;
      readonly error: string | null;
    };

export type Command =
  | { readonly type: "stop" }
  | { readonly type: "abort" }
  | { readonly type: "toggle-pause" }
  | {
      readonly type: "inject";
      readonly kind: string;
      readonly target: string;
      readonly params: Readonly<Record<string, unknown>>;
      readonly durationMs: number | null;
    };

export interface PickerContext {
  readonly kinds: Readonly<Record<string, PickerKind>>;
  /** Target names of this run ("worker", "link:api", "load", ...). */
  readonly targets: readonly string[];
}

export interface KeyResult {
  readonly picker: PickerState;
  readonly command: Command | null;
}

export const CLOSED: PickerState = { step: "closed" };

/** Parameters offered first for a kind in the picker; the user edits them before Enter. */
const PRESETS: Readonly<Record<string, string>> = {
  "load-burst": "{multiplier: 2}",
  "net-latency": "{latency: 500}",
  "net-bandwidth": "{rate: 64}",
  "net-limit-data": "{bytes: 1024}",
  "net-slow-close": "{delay: 1000}",
  "net-timeout": "{timeout: 1000}",
  "gpu-oom": "{fraction: 0.9}",
};
export const DEFAULT_HOLD = "30s";

const roleOf = (name: string): string => name.split(":")[0] ?? name;

/** Target names of the run that a kind can aim at. */
export function targetsFor(kind: PickerKind | undefined, targets: readonly string[]): string[] {
  if (kind === undefined) return [];
  return targets.filter((t) => kind.targets.includes(roleOf(t)));
}

const move = (index: number, k: KeyPress, length: number): number => {
  if (length === 0) return 0;
  if (k.up) return (index - 1 + length) % length;
  if (k.down) return (index + 1) % length;
  return index;
};

const edit = (text: string, k: KeyPress): string => {
  if (k.backspace) return text.slice(0, -1);
  if (k.ctrl || k.up || k.down || k.input.length === 0) return text;
  return text + k.input;
};

/** Keys outside the picker: q / Ctrl-C stop, a abort, p pause, f opens the picker. */
function liveKey(k: KeyPress): KeyResult {
  const none = (command: Command | null, picker: PickerState = CLOSED): KeyResult => ({ picker, command });
  if ((k.ctrl && k.input === "c") || k.input === "q") return none({ type: "stop" });
  if (k.ctrl) return none(null);
  switch (k.input) {
    case "a":
      return none({ type: "abort" });
    case "p":
      return none({ type: "toggle-pause" });
    case "f":
      return none(null, { step: "kind", index: 0 });
    default:
      return none(null);
  }
}

/**
 * The dashboard's keyboard as a pure function: state + key -> next picker state and at most one
 * command. Inside the picker, Esc goes one step back, Enter confirms, Ctrl-C still stops.
 */
export function handleKey(picker: PickerState, k: KeyPress, ctx: PickerContext): KeyResult {
  if (picker.step === "closed" || (k.ctrl && k.input === "c")) return liveKey(k);
  switch (picker.step) {
    case "kind":
      return kindKey(picker, k, ctx);
    case "target":
      return targetKey(picker, k, ctx);
    case "params":
      if (k.escape) return stay({ step: "target", kind: picker.kind, index: 0 });
      return k.enter
        ? confirmParams(picker, ctx)
        : stay({ ...picker, text: edit(picker.text, k), error: null });
    case "duration":
      if (k.escape)
        return stay({ step: "params", kind: picker.kind, target: picker.target, text: "{}", error: null });
      return k.enter ? confirmDuration(picker) : stay({ ...picker, text: edit(picker.text, k), error: null });
    default: {
      const never: never = picker;
      return never;
    }
  }
}

const stay = (p: PickerState): KeyResult => ({ picker: p, command: null });

function kindKey(picker: Extract<PickerState, { step: "kind" }>, k: KeyPress, ctx: PickerContext): KeyResult {
  const names = Object.keys(ctx.kinds);
  if (k.escape) return stay(CLOSED);
  const kind = names[picker.index];
  if (!k.enter || kind === undefined) return stay({ ...picker, index: move(picker.index, k, names.length) });
  return stay({ step: "target", kind, index: 0 });
}

function targetKey(
  picker: Extract<PickerState, { step: "target" }>,
  k: KeyPress,
  ctx: PickerContext,
): KeyResult {
  const targets = targetsFor(ctx.kinds[picker.kind], ctx.targets);
  if (k.escape)
    return stay({ step: "kind", index: Math.max(0, Object.keys(ctx.kinds).indexOf(picker.kind)) });
  const target = targets[picker.index];
  if (!k.enter || target === undefined)
    return stay({ ...picker, index: move(picker.index, k, targets.length) });
  return stay({ step: "params", kind: picker.kind, target, text: PRESETS[picker.kind] ?? "{}", error: null });
}

/** The params line as a mapping, or the message saying why not. */
function parseParamsText(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : parseYaml(text);
  } catch {
    return "params: not YAML; write a mapping such as {multiplier: 2}";
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return "params: expected a mapping such as {key: value}";
  return value as Record<string, unknown>;
}

/** Parses the params line (YAML flow mapping) and checks it against the kind's schema. */
function confirmParams(p: Extract<PickerState, { step: "params" }>, ctx: PickerContext): KeyResult {
  const kind = ctx.kinds[p.kind];
  const params = parseParamsText(p.text);
  if (typeof params === "string") return stay({ ...p, error: params });
  const parsed = kind?.params.safeParse(params);
  if (kind === undefined || parsed === undefined || !parsed.success) {
    const issue = parsed?.error?.issues[0];
    const where = issue && issue.path.length > 0 ? `params.${issue.path.map(String).join(".")}` : "params";
    return stay({ ...p, error: `${where}: ${issue?.message ?? "invalid"}` });
  }
  if (kind.isInstant(parsed.data as never)) {
    return {
      picker: CLOSED,
      command: { type: "inject", kind: p.kind, target: p.target, params, durationMs: null },
    };
  }
  return stay({ step: "duration", kind: p.kind, target: p.target, params, text: DEFAULT_HOLD, error: null });
}

function confirmDuration(p: Extract<PickerState, { step: "duration" }>): KeyResult {
  const text = p.text.trim();
  const durationMs = text === "" ? null : parseDuration(text);
  if (durationMs === null && text !== "")
    return {
      picker: { ...p, error: 'duration: write it with a unit, e.g. "30s", or leave it empty to hold' },
      command: null,
    };
  return {
    picker: CLOSED,
    command: { type: "inject", kind: p.kind, target: p.target, params: p.params, durationMs },
  };
}
