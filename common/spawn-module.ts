import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Spawns a Node entry module as a real OS process. From dist/ the entry is plain .js; under
 * vitest the sources are .ts and run through tsx's loader (Node 20 cannot strip types).
 * Callers pass `new URL("./x.js", import.meta.url)`; when that .js does not exist beside the
 * caller (we are running from sources) the .ts sibling is used.
 */
export function resolveEntry(moduleUrl: URL): URL {
  const path = fileURLToPath(moduleUrl);
  if (path.endsWith(".js") && !existsSync(path)) {
    const ts = new URL(moduleUrl.href.replace(/\.js$/, ".ts"));
    if (existsSync(fileURLToPath(ts))) return ts;
  }
  return moduleUrl;
}

/** The node argv (after the executable) that runs `moduleUrl`. */
export function nodeArgsFor(moduleUrl: URL): string[] {
  const path = fileURLToPath(resolveEntry(moduleUrl));
  // tsx resolved from here, not from the child's cwd: a child started in another directory
  // (a run's temp dir) would not find it.
  return path.endsWith(".ts") || path.endsWith(".tsx")
    ? ["--import", import.meta.resolve("tsx"), path]
    : [path];
}

export function spawnModule(
  moduleUrl: URL,
  args: readonly string[],
  options: SpawnOptions = {},
  nodeFlags: readonly string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, ...nodeArgsFor(moduleUrl), ...args], options);
}
