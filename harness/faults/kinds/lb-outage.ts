import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";
import { isSameProcess, signalQuietly } from "../proc.js";
import { victimFromPid, type Victim } from "../process-target.js";

const params = z.strictObject({
  /**
   * kill: SIGKILL HAProxy (its supervisor restarts it, as a container runtime would); every
   * open connection is lost. freeze: SIGSTOP it for the fault's duration, then SIGCONT (a hung
   * balancer: connections are accepted by the kernel and wait).
   */
  mode: z.enum(["kill", "freeze"]).default("kill"),
});
type Params = z.infer<typeof params>;
type State = Victim | null;

/**
 * The single point of failure replicas leave: the load balancer itself. Aimed at `lb` (the
 * HAProxy the reference target runs in front of its replicas).
 */
export const lbOutage: Injector<Params, State> = {
  kind: "lb-outage",
  summary: "Kill or freeze the load balancer in front of the replicas (the single point of failure left)",
  params,
  targets: ["lb"],
  isInstant: (p) => p.mode === "kill",
  describe: (p) =>
    p.mode === "kill"
      ? "SIGKILL the load balancer (HAProxy)"
      : "freeze the load balancer (SIGSTOP ... SIGCONT)",
  async inject(p, ctx) {
    const pid = (await ctx.target.lbPid?.()) ?? null;
    if (pid === null) {
      throw new FaultError(
        `target "${ctx.targetName}" runs no load balancer`,
        "set target.replicas to 2 or more",
      );
    }
    // HAProxy leads its own group (started detached): signal the group, never ours.
    const victim = await victimFromPid(pid, "auto");
    const to = victim.group ? -victim.pid : victim.pid;
    if (p.mode === "kill") {
      signalQuietly(to, "SIGKILL");
      return null;
    }
    signalQuietly(to, "SIGSTOP");
    return victim;
  },
  async revert(state) {
    // A recycled pid is left alone.
    if (state === null || !(await isSameProcess(state.pid, state.startTime))) return;
    signalQuietly(state.group ? -state.pid : state.pid, "SIGCONT");
  },
};
