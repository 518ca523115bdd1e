import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../../common/clock.js";
import type { FaultContext, TargetHandles } from "../../../harness/faults/injector.js";
import { readProcStat } from "../../../harness/faults/proc.js";

/** Spawned processes and temp dirs of one test file, torn down in afterEach. */
export class Sandbox {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];

  /** A real node process that stays alive; resolves once it printed its first line. */
  async spawnLoop(opts: { detached?: boolean; script?: string } = {}): Promise<ChildProcess> {
    return (await this.spawnLoopWithLine(opts)).child;
  }

  async spawnLoopWithLine(
    opts: { detached?: boolean; script?: string } = {},
  ): Promise<{ child: ChildProcess; line: string }> {
    const script = opts.script ?? 'setInterval(() => {}, 1000); process.stdout.write("ready\\n");';
    const child = spawn(process.execPath, ["-e", script], {
      detached: opts.detached ?? false,
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.children.push(child);
    if (opts.detached) leaders.add(child);
    const line = await new Promise<string>((resolve, reject) => {
      child.once("error", reject);
      child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
    });
    return { child, line };
  }

  async tempDir(prefix = "faultline-faults-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async teardown(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, "SIGCONT");
          // Detached children lead a group: kill the group so their own children go too.
          process.kill(isLeader(c) ? -c.pid : c.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    this.children.length = 0;
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
    this.dirs.length = 0;
  }
}

const leaders = new WeakSet<ChildProcess>();
const isLeader = (c: ChildProcess): boolean => leaders.has(c);

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Polls /proc until the process state letter is `want` (signals are delivered asynchronously). */
export async function waitForState(pid: number, want: string, timeoutMs = 2000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = (await readProcStat(pid))?.state ?? "gone";
    if (state === want || Date.now() > until) return state;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function faultContext(target: TargetHandles, targetName: string, occurrenceId = "t1"): FaultContext {
  return {
    clock: new ManualClock(1_700_000_000_000),
    random: () => 0.5,
    target,
    targetName,
    signal: new AbortController().signal,
    occurrenceId,
  };
}
