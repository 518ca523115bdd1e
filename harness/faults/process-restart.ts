import { z } from "zod";
import { FaultError } from "../../common/errors.js";
import type { Injector } from "./injector.js";
import { PROCESS_ROLES, roleOf } from "./process-target.js";

const params = z.strictObject({});
type Params = z.infer<typeof params>;

/** Asks the target adapter that owns the process to restart it (stop, then start again). */
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
    await ctx.target.restart(role);
    return null;
  },
  async revert() {},
};
