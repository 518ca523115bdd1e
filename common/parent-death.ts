import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * A program the harness starts (HAProxy, a command target) should not outlive a harness that
 * was SIGKILLed. Linux has the mechanism (prctl PR_SET_PDEATHSIG) but Node cannot call prctl,
 * so the program is started through util-linux's `setpriv --pdeathsig TERM`, which sets it and
 * then execs the program (same pid, so every pid the harness keeps stays right). util-linux is
 * essential in Debian; where setpriv is missing the program starts as before and only the
 * started-process journal (`faultline cleanup`) stops it.
 */

/** The executable `name` resolves to on PATH (or itself when it has a slash); null when none. */
export function resolveExecutable(name: string, path = process.env["PATH"] ?? ""): string | null {
  const candidates = name.includes("/")
    ? [name]
    : path
        .split(delimiter)
        .filter((d) => d !== "")
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there or not executable: next one
    }
  }
  return null;
}

let setprivPath: string | null | undefined;

/**
 * `[file, args]` that start `bin args` with SIGTERM as its parent-death signal. A binary that
 * does not resolve is returned unwrapped, so spawning it fails with ENOENT as it would without
 * the wrapper (the callers name the missing binary from that error).
 */
export function withParentDeathSignal(
  bin: string,
  args: readonly string[],
  path?: string,
): [string, string[]] {
  setprivPath ??= resolveExecutable("setpriv");
  if (setprivPath === null || resolveExecutable(bin, path) === null) return [bin, [...args]];
  return [setprivPath, ["--pdeathsig", "TERM", "--", bin, ...args]];
}
