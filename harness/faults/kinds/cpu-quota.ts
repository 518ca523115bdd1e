import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { cgroupOf, createCpuLimitedGroup, findGroups, moveInto, removeGroup } from "../cgroup.js";
import type { Injector } from "../injector.js";
import { occurrenceIdOf, plantedName } from "../occurrence.js";
import { PROCESS_ROLES, resolveVictim } from "../process-target.js";

const params = z.strictObject({
  /** CPU time the process may use, in percent of one CPU (10 = 10 ms of every 100 ms). */
  percent: z.number().min(1).max(1000).default(10),
  /** The kernel's accounting period: the process runs its quota, then waits out the rest. */
  periodMs: z.number().int().min(1).max(1000).default(100),
});
type Params = z.infer<typeof params>;
type State = { group: string; pid: number };

/**
 * CPU starvation: the target process moves into a new cpu cgroup (created under its current
 * one) whose bandwidth limit lets all its threads together run `percent` of one CPU, as a
 * container's CPU limit or a noisy co-tenant would. Revert moves it back and removes the group.
 * Only the process that was the target at inject time is limited: a restarted successor starts
 * outside.
 */
export const cpuQuota: Injector<Params, State> = {
  kind: "cpu-quota",
  summary: "CPU starvation: the process goes into a cpu cgroup limited to a percent of one CPU",
  params,
  targets: PROCESS_ROLES,
  isInstant: () => false,
  describe: (p, target) => `${target} limited to ${p.percent}% of one CPU`,
  async inject(p, ctx) {
    const victim = await resolveVictim(ctx, "process");
    const periodUs = p.periodMs * 1000;
    // The kernel refuses quotas under 1 ms.
    const quotaUs = Math.max(1000, Math.round((periodUs * p.percent) / 100));
    const name = plantedName(occurrenceIdOf(ctx));
    const group = await createCpuLimitedGroup(await cgroupOf(victim.pid, "cpu"), name, quotaUs, periodUs);
    try {
      await moveInto(group, victim.pid);
    } catch (e) {
      await removeGroup(group.dir);
      throw new FaultError(`cpu-quota could not limit pid ${victim.pid}: ${(e as Error).message}`);
    }
    return { group: group.dir, pid: victim.pid };
  },
  async revert(s) {
    await removeGroup(s.group);
  },
  async revertPending(_p, pending) {
    for (const dir of await findGroups(plantedName(pending.occurrenceId), 8, "cpu")) await removeGroup(dir);
  },
};
