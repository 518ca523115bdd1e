import { spawn } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { createLimitedGroup, findGroups, memoryCgroupOf, moveInto, pidsIn, removeGroup } from "../cgroup.js";
import type { Injector } from "../injector.js";
import { occurrenceIdOf, plantedName } from "../occurrence.js";
import { isSameProcess, readProcStat, signalQuietly } from "../proc.js";
import { PROCESS_ROLES, resolveVictim } from "../process-target.js";

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
 * The hog is `tail /dev/zero`: it buffers an endless line, so it grows until the kernel kills
 * it. It is tiny apart from that buffer, which matters: the OOM killer ranks tasks by RSS plus
 * oom_score_adj x limit, and a node hog's own 35 MB of mapped binary would compete with the
 * target. It starts stopped (`kill -STOP $$` before the exec) so that not a page is charged
 * outside the group; the injector moves it in, then sends SIGCONT. Once the target is dead
 * the hog fills the group again and the kernel kills it too: nothing is left running.
 */
const HOG_SHELL = "kill -STOP $$; exec tail /dev/zero";
const isHogCmdline = (args: readonly string[]): boolean =>
  args.includes(HOG_MARKER) || (args[0] === "tail" && args[1] === "/dev/zero");

async function startHog(groupDir: string): Promise<{ pid: number; startTime: number }> {
  const child = spawn("/bin/sh", ["-c", HOG_SHELL, HOG_MARKER, groupDir], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new FaultError("could not start the memory hog");
  for (let i = 0; i < 200; i++) {
    const stat = await readProcStat(pid);
    if (stat?.state === "T") return { pid, startTime: stat.startTime };
    if (!stat || stat.state === "Z") break;
    await new Promise((r) => setTimeout(r, 5));
  }
  signalQuietly(pid, "SIGKILL");
  throw new FaultError("the memory hog did not start");
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

/** Hogs of an occurrence (cleanup after a crash mid-inject): stopped shells naming the group, or tails inside it. */
async function findHogs(groupDir: string): Promise<number[]> {
  const inGroup = new Set(await pidsIn(groupDir));
  const pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const hogs: number[] = [];
  for (const pid of pids) {
    const args = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
    const named = args.includes(HOG_MARKER) && args.includes(groupDir);
    if (named || (inGroup.has(pid) && isHogCmdline(args))) hogs.push(pid);
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
        state.hog = await startHog(group.dir);
        await moveInto(group, state.hog.pid);
        signalQuietly(state.hog.pid, "SIGCONT");
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
    // The target's oom_score_adj may stay raised (its old value was not journaled yet).
    for (const dir of await findGroups(plantedName(pending.occurrenceId))) {
      for (const pid of await findHogs(dir)) signalQuietly(pid, "SIGKILL");
      await removeGroupWhenEmptyOfHog(dir);
    }
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
