import { readFile } from "node:fs/promises";
import { killGroup, killPid } from "../../common/safe-kill.js";

/** The fields of /proc/<pid>/stat the injectors need. */
export interface ProcStat {
  readonly pid: number;
  /** R, S, D, T (stopped), t (traced), Z (zombie), ... */
  readonly state: string;
  readonly pgid: number;
  /** Clock ticks since boot: with the pid, identifies one process across pid reuse. */
  readonly startTime: number;
}

/** Reads /proc/<pid>/stat; null when the process does not exist. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: the fields after it follow the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: rest[0] ?? "?",
    pgid: Number(rest[2]),
    startTime: Number(rest[19]),
  };
}

/** True when `pid` still names the process that had `startTime` (not a recycled pid). */
export async function isSameProcess(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== "Z";
}

/**
 * Sends a signal to a pid, or to a process group when `target` is negative (kill(2)'s
 * convention). A vanished process is not an error (revert must be idempotent); pid 0, 1, our
 * own pid or our own group are never signalled (see common/safe-kill.ts).
 */
export function signalQuietly(target: number, signal: NodeJS.Signals): boolean {
  return target < 0 ? killGroup(-target, signal) : killPid(target, signal);
}
