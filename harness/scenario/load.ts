import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { InvalidInputError, type InputIssue } from "../../common/errors.js";
import type { FaultCatalog } from "./catalog.js";
import { issuesFromZod, toInputIssue } from "./issues.js";
import { scenarioSchema, type Scenario } from "./schema.js";
import { checkSemantics } from "./semantic.js";

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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        file: `${file}:${lines.linePos(e.pos[0]).line}`,
        path: "",
        message: `invalid YAML: ${e.message.split("\n")[0] ?? e.message}`,
        hint: "check indentation and quoting on that line",
      })),
    };
  }
  const data: unknown = doc.toJS();
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
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issuesFromZod(parsed.error.issues, data).map((i) => toInputIssue(file, locate, i)),
    };
  }
  const semantic = checkSemantics(parsed.data, catalog);
  if (semantic.length > 0) return { ok: false, issues: semantic.map((i) => toInputIssue(file, locate, i)) };
  return { ok: true, value: { file, scenario: parsed.data, source: data as Record<string, unknown> } };
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
    const st = await stat(abs).catch(() => null);
    if (!st) {
      missing.push({ file: p, path: "", message: "no such file or directory", hint: "check the path" });
    } else if (st.isDirectory()) {
      const names = (await readdir(abs)).filter((n) => /\.ya?ml$/.test(n)).sort();
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
    const text = await readFile(resolve(cwd, file), "utf8").catch((e: NodeJS.ErrnoException) => {
      issues.push({ file: shown, path: "", message: `cannot read: ${e.code ?? e.message}` });
      return null;
    });
    if (text === null) continue;
    const r = parseScenario(text, shown, catalog);
    if (r.ok) loaded.push(r.value);
    else issues.push(...r.issues);
  }
  if (issues.length > 0)
    throw new InvalidInputError(issues, "`faultline validate FILE` checks a scenario without running it");
  return loaded;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, file));
  return rel.startsWith("..") ? file : rel;
}
