import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * The one way the harness and the reference service send signals. kill(2) reads pid 0 as "my
 * own process group", -1 as "every process I may signal" and a negative pid as a group, so a
 * pid that was never assigned (a child whose spawn failed has `pid === undefined`, which libuv
 * turns into 0) must never reach it: that is how a missing binary once SIGTERMed the shell
 * that ran faultline. Every helper here refuses anything but a real pid of another process.
 */

/** A pid we may signal: an integer above 1 (0 is our group, 1 is init) that is not ourselves. */
export function isSignalablePid(pid: unknown): pid is number {
  return typeof pid === "number" && Number.isInteger(pid) && pid > 1 && pid !== process.pid;
}

let ownGroup: number | null | undefined;
/** Our own process group id, from /proc/self/stat (Node has no getpgid); null off Linux. */
export function ownProcessGroup(): number | null {
  if (ownGroup !== undefined) return ownGroup;
  try {
    const text = readFileSync("/proc/self/stat", "utf8");
    ownGroup = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    ownGroup = null;
  }
  return ownGroup;
}

/** Sends `signal` to one process. False (nothing sent) for an unsignalable pid or a vanished process. */
export function killPid(pid: number | null | undefined, signal: NodeJS.Signals | 0): boolean {
  if (!isSignalablePid(pid)) return false;
  return send(pid, signal);
}

/**
 * Sends `signal` to the process group led by `pgid` (a positive group id). Refuses our own
 * group: signalling it would stop or kill the harness and whatever shell started it.
 */
export function killGroup(pgid: number | null | undefined, signal: NodeJS.Signals | 0): boolean {
  if (!isSignalablePid(pgid) || pgid === ownProcessGroup()) return false;
  return send(-pgid, signal);
}

/** Signals a child only if it got a pid and has not exited; false otherwise. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  if (!isSignalablePid(child.pid)) return false;
  return child.kill(signal);
}

function send(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}
