import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";
import { PROCESS_ROLES, replicaOf, roleOf } from "../process-target.js";

const params = z.strictObject({});
type Params = z.infer<typeof params>;

/**
 * Asks the target adapter that owns the process to restart it (stop, then start again). Behind
 * the load balancer a restart of `api` is rolling: drain one replica, restart it, wait until
 * HAProxy sees it UP, next.
 */
export const processRestart: Injector<Params, null> = {
  kind: "process-restart",
  summary: "Restart a process through the target adapter that owns it",
  params,
  targets: PROCESS_ROLES,
  isInstant: () => true,
  describe: (_p, target) => `restart ${target}`,
  async inject(_p, ctx) {
    const role = roleOf(ctx.targetName);
    if (!ctx.target.restart) {
      throw new FaultError(`target "${ctx.targetName}" cannot restart processes`, "use process-kill instead");
    }
    // With replicas: `api#2` restarts that one; `api` all of them, one at a time (rolling).
    await ctx.target.restart(role, replicaOf(ctx.targetName));
    return null;
  },
  async revert() {},
};
