import { z } from "zod";
import { FaultError } from "../../common/errors.js";
import type { Injector } from "./injector.js";
import { signalQuietly } from "./proc.js";
import {
  PROCESS_ROLES,
  describeVictim,
  resolveVictims,
  scopeSchema,
  signalTarget,
} from "./process-target.js";

export const processSignalParams = z.strictObject({ scope: scopeSchema });
export type ProcessSignalParams = z.infer<typeof processSignalParams>;

/** An instant fault that sends one terminating signal; there is nothing to revert. */
export function processSignalInjector(
  kind: string,
  signal: "SIGKILL" | "SIGTERM",
  summary: string,
): Injector<ProcessSignalParams, null> {
  return {
    kind,
    summary,
    params: processSignalParams,
    targets: PROCESS_ROLES,
    isInstant: () => true,
    describe: (p, target) => `${signal} ${describeVictim(target, p.scope)}`,
    async inject(p, ctx) {
      // With replicas, a bare `api` addresses every replica (all die at once).
      for (const victim of await resolveVictims(ctx, p.scope)) {
        let sent: boolean;
        try {
          sent = signalQuietly(signalTarget(victim), signal);
        } catch (e) {
          throw new FaultError(`${signal} to pid ${victim.pid} failed: ${(e as Error).message}`);
        }
        if (!sent)
          throw new FaultError(
            `${signal} to pid ${victim.pid}: no such process (or not one the harness may signal)`,
          );
      }
      return null;
    },
    async revert() {},
  };
}
