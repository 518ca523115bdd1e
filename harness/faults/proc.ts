import { readFile } from "node:fs/promises";

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

/** Sends a signal; a vanished process is not an error (revert must be idempotent). */
export function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}
