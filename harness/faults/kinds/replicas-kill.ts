import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";
import { signalQuietly } from "../proc.js";
import { resolveVictim, scopeSchema, signalTarget } from "../process-target.js";

const params = z.strictObject({
  scope: scopeSchema,
  /** Spread of the kills: replica k of N dies k/(N-1) of the way through it (0: all at once). */
  windowMs: z.number().int().min(0).max(60_000).default(0),
});
type Params = z.infer<typeof params>;

/**
 * Correlated failure: SIGKILL every API replica (or every replica's worker) within a window,
 * as a bad deploy, a shared dependency or a host failure would. Health checks and retries
 * cannot help when no replica is left to retry on; this fault measures what remains.
 */
export const replicasKill: Injector<Params, null> = {
  kind: "replicas-kill",
  summary: "SIGKILL every replica within a window (correlated failure: nothing left to fail over to)",
  params,
  targets: ["api", "worker"],
  isInstant: () => true,
  describe: (p, target) => `SIGKILL every ${target} replica within ${p.windowMs} ms`,
  async inject(p, ctx) {
    const n = ctx.target.replicas ?? 1;
    if (ctx.targetName.includes("#")) {
      throw new FaultError(
        `replicas-kill aims at every replica, not "${ctx.targetName}"`,
        "use target: api or worker",
      );
    }
    const gap = n > 1 ? p.windowMs / (n - 1) : 0;
    const killed = new Set<number>();
    for (let r = 1; r <= n; r++) {
      if (r > 1 && gap > 0) await ctx.clock.sleep(gap, ctx.signal);
      const victim = await resolveVictim(ctx, p.scope, r);
      // With upstreamLink every replica's `worker` is the one model server's: killed once.
      if (killed.has(victim.pid)) continue;
      killed.add(victim.pid);
      let sent: boolean;
      try {
        sent = signalQuietly(signalTarget(victim), "SIGKILL");
      } catch (e) {
        throw new FaultError(`SIGKILL to replica ${r} (pid ${victim.pid}) failed: ${(e as Error).message}`);
      }
      if (!sent)
        throw new FaultError(
          `SIGKILL to replica ${r} (pid ${victim.pid}): no such process (or not one the harness may signal)`,
        );
    }
    return null;
  },
  async revert() {},
};
