import { z } from "zod";
import type { Injector, PendingContext } from "../injector.js";
import { isSameProcess, signalQuietly } from "../proc.js";
import {
  PROCESS_ROLES,
  describeVictim,
  resolveVictim,
  roleOf,
  scopeSchema,
  signalTarget,
  type Victim,
} from "../process-target.js";

const params = z.strictObject({ scope: scopeSchema });
type Params = z.infer<typeof params>;

/** SIGCONT only the process that was frozen: a recycled pid is left alone. */
async function thaw(v: Victim): Promise<void> {
  if (!(await isSameProcess(v.pid, v.startTime))) return;
  signalQuietly(signalTarget(v), "SIGCONT");
}

/** SIGSTOP for the fault's duration (a hang: the process holds its sockets and files but does nothing). */
export const processFreeze: Injector<Params, Victim> = {
  kind: "process-freeze",
  summary: "Freeze a process with SIGSTOP for the duration, then SIGCONT (a hang)",
  params,
  targets: PROCESS_ROLES,
  isInstant: () => false,
  describe: (p, target) => `freeze ${describeVictim(target, p.scope)} (SIGSTOP ... SIGCONT)`,
  async inject(p, ctx) {
    const victim = await resolveVictim(ctx, p.scope);
    signalQuietly(signalTarget(victim), "SIGSTOP");
    return victim;
  },
  revert: (state) => thaw(state),
  revertPending(_p, pending: PendingContext) {
    // Conservative: SIGCONT is harmless to a process that was never stopped, so thaw the pid
    // (and its group, if it leads one) that inject was about to stop.
    const pid = pending.pids[roleOf(pending.targetName)];
    if (pid === undefined) return Promise.resolve();
    signalQuietly(pid, "SIGCONT");
    // Not a group leader, or gone: nothing more to thaw (and never our own group).
    signalQuietly(-pid, "SIGCONT");
    return Promise.resolve();
  },
};
