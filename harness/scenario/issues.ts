import type { z } from "zod";
import type { InputIssue } from "../../common/errors.js";
import { describeValue } from "./duration.js";

/** `["faults", 2, "duration"]` -> `faults[2].duration`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** A user-facing issue with "expected ..., found ..." for one zod issue (or several, for unknown keys). */
export function issuesFromZod(
  zodIssues: readonly z.core.$ZodIssue[],
  data: unknown,
  prefix: readonly PropertyKey[] = [],
): { path: PropertyKey[]; message: string; hint?: string }[] {
  return zodIssues.flatMap((iss) => {
    const path = [...prefix, ...iss.path];
    if (iss.code === "unrecognized_keys") {
      return iss.keys.map((key) => ({
        path: [...path, key],
        message: `unknown field "${key}"`,
        hint: "remove it or check its spelling (scenarios/scenario.schema.json lists every field)",
      }));
    }
    return [{ path, ...describeIssue(iss, valueAt(data, iss.path)) }];
  });
}

function describeIssue(iss: z.core.$ZodIssue, found: unknown): { message: string; hint?: string } {
  switch (iss.code) {
    case "invalid_type":
      if (found === undefined)
        return { message: `missing required field (expected ${typeName(iss.expected)})` };
      return {
        message: iss.message.startsWith("expected")
          ? iss.message
          : `expected ${typeName(iss.expected)}, found ${describeValue(found)}`,
      };
    case "invalid_union":
      return describeUnion(iss, found);
    case "invalid_value": {
      const options = iss.values.map((v) => JSON.stringify(v)).join(", ");
      return { message: `expected one of ${options}, found ${describeValue(found)}` };
    }
    case "too_small":
      return {
        message: `expected ${bound(iss.origin, ">", iss.inclusive, iss.minimum)}, found ${describeFound(iss.origin, found)}`,
      };
    case "too_big":
      // A limit of the loader (limits.ts) says so in its own message; keep it, add what was found.
      if (iss.message.includes("(the limit"))
        return {
          message: `${iss.message}, found ${describeFound(iss.origin, found)}`,
          hint: "see the limits in scenarios/README.md",
        };
      return {
        message: `expected ${bound(iss.origin, "<", iss.inclusive, iss.maximum)}, found ${describeFound(iss.origin, found)}`,
      };
    case "invalid_format":
    case "custom":
    case "not_multiple_of":
    case "invalid_key":
    case "invalid_element":
    case "unrecognized_keys":
      return { message: iss.message };
    default: {
      const never: never = iss;
      return { message: (never as { message: string }).message };
    }
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  array: "a list",
  object: "a mapping",
  number: "a number",
  string: "a text",
  boolean: "true or false",
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function describeUnion(iss: z.core.$ZodIssueInvalidUnion, found: unknown): { message: string } {
  const raw = (iss as { options?: unknown }).options;
  if (!Array.isArray(raw)) return { message: `expected ${iss.message}, found ${describeValue(found)}` };
  const options = raw.map((o) => `"${String(o)}"`).join(", ");
  return found === undefined
    ? { message: `missing required field (expected one of ${options})` }
    : { message: `expected one of ${options}, found ${describeValue(found)}` };
}

function bound(origin: string, dir: ">" | "<", inclusive: boolean | undefined, n: unknown): string {
  const op = `${dir}${inclusive ? "=" : ""}`;
  switch (origin) {
    case "array":
    case "set":
      return `a list with ${op} ${String(n)} item(s)`;
    case "string":
      return `a text of length ${op} ${String(n)}`;
    default:
      return `a number ${op} ${String(n)}`;
  }
}

function describeFound(origin: string, found: unknown): string {
  if (Array.isArray(found)) return `${found.length} item(s)`;
  if (origin === "string" && typeof found === "string") return `length ${found.length}`;
  return describeValue(found);
}

export function toInputIssue(
  file: string | undefined,
  locate: (path: readonly PropertyKey[]) => number | null,
  issue: { path: readonly PropertyKey[]; message: string; hint?: string },
): InputIssue {
  const line = locate(issue.path);
  const where = file === undefined ? undefined : line === null ? file : `${file}:${line}`;
  return {
    ...(where === undefined ? {} : { file: where }),
    path: formatPath(issue.path),
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
  };
}
