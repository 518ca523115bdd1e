import { spawn } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { z } from "zod";
import { FaultError } from "../../common/errors.js";
import { createLimitedGroup, findGroups, memoryCgroupOf, moveInto, removeGroup } from "./cgroup.js";
import type { Injector } from "./injector.js";
import { occurrenceIdOf, plantedName } from "./occurrence.js";
import { isSameProcess, readProcStat, signalQuietly } from "./proc.js";
import { PROCESS_ROLES, resolveVictim } from "./process-target.js";

const MiB = 1024 * 1024;

const params = z.strictObject({
  /** Memory limit of the group the target is moved into. */
  limitBytes: z
    .number()
    .int()
    .min(16 * MiB)
    .default(64 * MiB),
  /**
   * true: a co-tenant hog in the same group fills it, so the kernel OOM-kills the target at
   * once (the target is made the OOM killer's choice: oom_score_adj 1000). false: only the limit; the target is killed
   * when its own new allocations cross it.
   */
  hog: z.boolean().default(true),
});
type Params = z.infer<typeof params>;
type State = {
  group: string;
  target: { pid: number; startTime: number; oomScoreAdj: string | null };
  hog: { pid: number; startTime: number } | null;
};

const HOG_MARKER = "faultline-hog";

/**
 * The hog: waits until it is inside the limited group (so its pages are charged there), then
 * allocates and touches 8 MiB a step until the target is gone (or a zombie), then exits. Bounded in memory
 * (4 x limit) and time (120 s) even if nobody reverts it.
 */
const HOG_SCRIPT = `
const [, group, target, limit] = process.argv.slice(1);
const held = []; const t0 = Date.now();
const inGroup = () => require("fs").readFileSync("/proc/self/cgroup", "utf8").includes(group);
const alive = () => { try { const st = require("fs").readFileSync("/proc/" + target + "/stat", "utf8"); return st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3) !== "Z"; } catch { return false; } };
const step = () => {
  if (!alive() || Date.now() - t0 > 120000 || held.length * 8388608 > 4 * Number(limit)) process.exit(0);
  if (inGroup()) held.push(Buffer.alloc(8388608, 1));
  setTimeout(step, 5);
};
step();`;

async function startHog(
  groupName: string,
  targetPid: number,
  limitBytes: number,
): Promise<{ pid: number; startTime: number }> {
  const child = spawn(
    process.execPath,
    ["-e", HOG_SCRIPT, HOG_MARKER, groupName, String(targetPid), String(limitBytes)],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  child.unref();
  const pid = child.pid;
  const stat = pid === undefined ? null : await readProcStat(pid);
  if (pid === undefined || !stat) throw new FaultError("could not start the memory hog");
  return { pid, startTime: stat.startTime };
}

/**
 * Makes the target the OOM killer's choice in its group. Raising oom_score_adj needs no
 * privilege; exempting the hog (-1000) would need CAP_SYS_RESOURCE, which containers lack.
 * Returns the previous value, restored at revert.
 */
async function markTarget(pid: number): Promise<string | null> {
  const before = (await readFile(`/proc/${pid}/oom_score_adj`, "utf8")).trim();
  await writeFile(`/proc/${pid}/oom_score_adj`, "1000");
  return before;
}

async function unmarkTarget(t: State["target"]): Promise<void> {
  if (t.oomScoreAdj === null || !(await isSameProcess(t.pid, t.startTime))) return;
  // Lowering below the value a privileged writer last set needs CAP_SYS_RESOURCE: best effort.
  await writeFile(`/proc/${t.pid}/oom_score_adj`, t.oomScoreAdj).catch(() => undefined);
}

async function killHog(hog: { pid: number; startTime: number } | null): Promise<void> {
  if (hog && (await isSameProcess(hog.pid, hog.startTime))) signalQuietly(hog.pid, "SIGKILL");
}

/** Hogs of an occurrence found by their command line (cleanup after a crash mid-inject). */
async function findHogs(groupName: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const hogs: number[] = [];
  for (const pid of pids) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const args = cmd.split("\0");
    if (args.includes(HOG_MARKER) && args.includes(groupName)) hogs.push(pid);
  }
  return hogs;
}

/**
 * A real out-of-memory kill: the target process is moved into a new memory cgroup with a
 * limit, and (by default) a hog in the same group fills it, so the kernel's OOM killer ends
 * the target with SIGKILL, as on a host or container that ran out of memory. Only the process
 * that was the target at inject time is limited: a restarted successor starts outside it.
 */
export const hostOom: Injector<Params, State> = {
  kind: "host-oom",
  summary:
    "Real kernel OOM kill: the process goes into a memory cgroup with a limit that a co-tenant hog fills",
  params,
  targets: PROCESS_ROLES,
  isInstant: () => false,
  describe: (p, target) =>
    `${target} limited to ${Math.round(p.limitBytes / MiB)} MiB${p.hog ? ", filled by a hog" : ""}`,
  async inject(p, ctx) {
    const victim = await resolveVictim(ctx, "process");
    const name = plantedName(occurrenceIdOf(ctx));
    const group = await createLimitedGroup(await memoryCgroupOf(victim.pid), name, p.limitBytes);
    const state: State = {
      group: group.dir,
      target: { pid: victim.pid, startTime: victim.startTime, oomScoreAdj: null },
      hog: null,
    };
    try {
      await moveInto(group, victim.pid);
      if (p.hog) {
        state.target.oomScoreAdj = await markTarget(victim.pid);
        state.hog = await startHog(name, victim.pid, p.limitBytes);
        await moveInto(group, state.hog.pid);
      }
    } catch (e) {
      await killHog(state.hog);
      await unmarkTarget(state.target);
      await removeGroup(group.dir);
      throw new FaultError(`host-oom could not limit pid ${victim.pid}: ${(e as Error).message}`);
    }
    return state;
  },
  async revert(s) {
    await killHog(s.hog);
    await unmarkTarget(s.target);
    await removeGroupWhenEmptyOfHog(s.group);
  },
  async revertPending(_p, pending) {
    const name = plantedName(pending.occurrenceId);
    for (const pid of await findHogs(name)) signalQuietly(pid, "SIGKILL");
    // The target's oom_score_adj may stay raised (its old value was not journaled yet).
    for (const dir of await findGroups(name)) await removeGroupWhenEmptyOfHog(dir);
  },
};

/** A killed hog leaves the group only once the kernel reaped it: retry rmdir briefly. */
async function removeGroupWhenEmptyOfHog(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await removeGroup(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EBUSY" || i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
