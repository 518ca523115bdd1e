import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";

const params = z.strictObject({
  /** Server-sent events the client reads before it hangs up (1 = right after the first chunk). */
  afterEvents: z.number().int().min(1).max(10_000).default(2),
  /** Share of the streams sent during the fault that are cut. */
  fraction: z.number().gt(0).max(1).default(1),
});
type Params = z.infer<typeof params>;

const unsupported = (): FaultError =>
  new FaultError(
    "client-disconnect needs the built-in load generator (load.driver: builtin)",
    "run it inside a scenario whose load is driven by faultline itself",
  );

/**
 * Clients that hang up mid-stream (a closed browser tab, a client timeout): streams sent
 * while it lasts are cut after `afterEvents` events. A cut stream that was healthy up to the
 * cut counts as answered (the client chose to leave); what the scenario checks is that the
 * service frees the abandoned generation's slots, so the requests that stay are served.
 */
export const clientDisconnect: Injector<Params, { afterEvents: number; fraction: number }> = {
  kind: "client-disconnect",
  summary: "Clients hang up on streams after a few events (abandoned generations must free their slots)",
  params,
  targets: ["load"],
  isInstant: () => false,
  describe: (p) =>
    `${p.fraction === 1 ? "every stream" : `${Math.round(p.fraction * 100)}% of streams`} cut after ${p.afterEvents} event${p.afterEvents === 1 ? "" : "s"}`,
  inject(p, ctx) {
    if (!ctx.load?.setClientDisconnect?.(p)) return Promise.reject(unsupported());
    return Promise.resolve({ afterEvents: p.afterEvents, fraction: p.fraction });
  },
  revert(_s, ctx) {
    // In a fresh process (faultline cleanup) the load died with the harness: nothing to undo.
    ctx.load?.setClientDisconnect?.(null);
    return Promise.resolve();
  },
};
