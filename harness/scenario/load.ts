import { open, readdir, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { InvalidInputError, type InputIssue } from "../../common/errors.js";
import type { FaultCatalog } from "./catalog.js";
import { issuesFromZod, toInputIssue } from "./issues.js";
import { LIMITS } from "./limits.js";
import { scenarioSchema, type Scenario } from "./schema.js";
import { checkSemantics, withDefaultModels } from "./semantic.js";

export interface LoadedScenario {
  /** Path as given (relative to cwd when possible), for messages and the run record. */
  readonly file: string;
  readonly scenario: Scenario;
  /** The parsed YAML before defaults, for the run record's `scenario.source`. */
  readonly source: Record<string, unknown>;
}

export type ParseResult =
  | { readonly ok: true; readonly value: LoadedScenario }
  | { readonly ok: false; readonly issues: readonly InputIssue[] };

/**
 * Parses one scenario text and reports every problem at once: YAML syntax, schema (strict:
 * unknown keys are errors), then semantics (timeline, fault kinds, targets, SLO references),
 * each located by field path and line.
 */
export function parseScenario(text: string, file: string, catalog: FaultCatalog): ParseResult {
  if (Buffer.byteLength(text, "utf8") > LIMITS.fileBytes) return { ok: false, issues: [tooLarge(file)] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        file: `${file}:${lines.linePos(e.pos[0]).line}`,
        path: "",
        ...(e instanceof RangeError || /call stack/i.test(e.message)
          ? tooDeep()
          : {
              message: `invalid YAML: ${e.message.split("\n")[0] ?? e.message}`,
              hint: "check indentation and quoting on that line",
            }),
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LIMITS.aliases });
  } catch (e) {
    // The yaml library throws (a ReferenceError) on an alias bomb; a deep document can
    // overflow the stack while being converted. Both are the file's doing.
    const aliases = e instanceof Error && /alias/i.test(e.message);
    return {
      ok: false,
      issues: [
        {
          file,
          path: "",
          ...(aliases
            ? {
                message: `YAML aliases expand to more than ${LIMITS.aliases} nodes (the limit for aliases)`,
                hint: "write the repeated part out, or use fewer *alias references",
              }
            : tooDeep()),
        },
      ],
    };
  }
  const locate = (path: readonly PropertyKey[]): number | null => lineOf(doc, lines, path);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      ok: false,
      issues: [
        {
          file,
          path: "",
          message:
            "expected a mapping of scenario fields, found " +
            (data === null ? "an empty document" : typeof data),
          hint: "start from a file in scenarios/ci/",
        },
      ],
    };
  }
  const shape = checkShape(data);
  if (shape.length > 0) return { ok: false, issues: shape.map((i) => toInputIssue(file, locate, i)) };
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issuesFromZod(parsed.error.issues, data).map((i) => toInputIssue(file, locate, i)),
    };
  }
  const semantic = checkSemantics(parsed.data, catalog);
  if (semantic.length > 0) return { ok: false, issues: semantic.map((i) => toInputIssue(file, locate, i)) };
  return {
    ok: true,
    value: { file, scenario: withDefaultModels(parsed.data), source: data as Record<string, unknown> },
  };
}

function tooLarge(file: string): InputIssue {
  return {
    file,
    path: "",
    message: `file is larger than ${LIMITS.fileBytes / 1024} KiB (the limit for a scenario file)`,
    hint: "split it into several scenarios",
  };
}

function tooDeep(): { message: string; hint: string } {
  return {
    message: `nested deeper than ${LIMITS.depth} levels (the limit for nesting)`,
    hint: "a scenario needs a handful of levels; flatten the nested part",
  };
}

/** Keys that name JavaScript's prototype machinery: never a scenario field, refused by name. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Checks the parsed document before the schema sees it, without recursion: nesting depth,
 * list lengths and prototype keys (which schema parsing would drop silently or trip over).
 */
function checkShape(data: unknown): { path: PropertyKey[]; message: string; hint?: string }[] {
  const issues: { path: PropertyKey[]; message: string; hint?: string }[] = [];
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: data, path: [] }];
  while (stack.length > 0 && issues.length < 20) {
    const { value, path } = stack.pop() as { value: unknown; path: PropertyKey[] };
    if (value === null || typeof value !== "object") continue;
    if (path.length >= LIMITS.depth) {
      issues.push({ path, ...tooDeep() });
      continue;
    }
    if (Array.isArray(value)) {
      if (value.length > LIMITS.listItems) {
        issues.push({
          path,
          message: `list has ${value.length} items, more than ${LIMITS.listItems} (the limit for any list)`,
          hint: "split the scenario",
        });
        continue;
      }
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (PROTOTYPE_KEYS.has(key)) {
        issues.push({
          path: [...path, key],
          message: `key "${key}" is not allowed (it names a JavaScript prototype, not a setting)`,
          hint: "remove it",
        });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return issues;
}

/** 1-based line of the deepest node on `path` that exists. */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | null {
  let node: unknown = doc.contents;
  let best: number | null = rangeLine(node, lines);
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === part);
      if (!pair) break;
      best = rangeLine(pair.key, lines) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number") {
      node = node.items[part];
      best = rangeLine(node, lines) ?? best;
    } else break;
  }
  return best;
}

function rangeLine(node: unknown, lines: LineCounter): number | null {
  const range = (node as Node | null | undefined)?.range;
  return range ? lines.linePos(range[0]).line : null;
}

/** Expands directories (their *.yaml / *.yml files, sorted) into scenario files. */
export async function expandScenarioPaths(paths: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  const missing: InputIssue[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    const st = await stat(abs).catch((e: NodeJS.ErrnoException) => fsIssue(p, e));
    if ("path" in st) {
      missing.push(st);
    } else if (st.isDirectory()) {
      const entries = await readdir(abs).catch((e: NodeJS.ErrnoException) => fsIssue(p, e));
      if (!Array.isArray(entries)) {
        missing.push(entries);
        continue;
      }
      const names = entries.filter((n) => /\.ya?ml$/.test(n)).sort();
      if (names.length === 0)
        missing.push({ file: p, path: "", message: "directory holds no .yaml scenario files" });
      out.push(...names.map((n) => join(p, n)));
    } else out.push(p);
  }
  if (missing.length > 0) throw new InvalidInputError(missing);
  return out;
}

/** Loads every scenario; throws one InvalidInputError carrying the issues of all files. */
export async function loadScenarios(
  paths: readonly string[],
  cwd: string,
  catalog: FaultCatalog,
): Promise<LoadedScenario[]> {
  const files = await expandScenarioPaths(paths, cwd);
  const loaded: LoadedScenario[] = [];
  const issues: InputIssue[] = [];
  for (const file of files) {
    const shown = displayPath(file, cwd);
    const text = await readScenarioFile(resolve(cwd, file), shown);
    if (typeof text !== "string") {
      issues.push(text);
      continue;
    }
    const r = parseScenario(text, shown, catalog);
    if (r.ok) loaded.push(r.value);
    else issues.push(...r.issues);
  }
  if (issues.length > 0)
    throw new InvalidInputError(issues, "`faultline validate FILE` checks a scenario without running it");
  return loaded;
}

/** What a failed stat, open or read says, as an input problem (the path is the user's). */
function fsIssue(file: string, e: NodeJS.ErrnoException): InputIssue {
  const known: Readonly<Record<string, string>> = {
    ENOENT: "no such file or directory",
    ENOTDIR: "a part of the path is a file, not a directory",
    EISDIR: "is a directory",
    EACCES: "permission denied",
    EPERM: "permission denied",
    ELOOP: "too many symbolic links",
    ENAMETOOLONG: "path too long",
  };
  const message =
    (e.code !== undefined && Object.hasOwn(known, e.code) ? known[e.code] : undefined) ??
    `cannot read: ${e.code ?? e.message}`;
  return { file, path: "", message, hint: "check the path" };
}

/**
 * Reads one scenario file: regular files only (a device, FIFO or socket is refused before it is
 * opened, so a symlink to /dev/zero costs nothing), at most LIMITS.fileBytes + 1 bytes read.
 */
async function readScenarioFile(abs: string, shown: string): Promise<string | InputIssue> {
  const notRegular: InputIssue = {
    file: shown,
    path: "",
    message: "not a regular file",
    hint: "give a .yaml scenario file or a directory of them",
  };
  try {
    const st = await stat(abs);
    if (!st.isFile()) return notRegular;
    if (st.size > LIMITS.fileBytes) return tooLarge(shown);
    const handle = await open(abs, "r");
    try {
      // The file may have changed between stat and open: check the opened one, read bounded.
      if (!(await handle.stat()).isFile()) return notRegular;
      const buf = Buffer.alloc(LIMITS.fileBytes + 1);
      let length = 0;
      while (length < buf.length) {
        const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length > LIMITS.fileBytes) return tooLarge(shown);
      return buf.toString("utf8", 0, length);
    } finally {
      await handle.close();
    }
  } catch (e) {
    return fsIssue(shown, e as NodeJS.ErrnoException);
  }
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, file));
  return rel.startsWith("..") ? file : rel;
}
