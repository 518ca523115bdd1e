import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";

const params = z.strictObject({
  /** Factor applied to the scenario's base arrival rate while the burst lasts. */
  multiplier: z.number().gt(0).max(1000),
});
type Params = z.infer<typeof params>;

/** A sudden multiple of the base rate: the "rapid concurrent requests" case. */
export const loadBurst: Injector<Params, { multiplier: number }> = {
  kind: "load-burst",
  summary: "Multiply the load's arrival rate for the duration (a traffic spike)",
  params,
  targets: ["load"],
  isInstant: () => false,
  describe: (p) => `load x${p.multiplier}`,
  inject(p, ctx) {
    if (!ctx.load) {
      return Promise.reject(
        new FaultError("load-burst needs the load generator", "run it inside a scenario"),
      );
    }
    ctx.load.setRateMultiplier(p.multiplier);
    return Promise.resolve({ multiplier: p.multiplier });
  },
  revert(_s, ctx) {
    // In a fresh process (faultline cleanup) the load died with the harness: nothing to undo.
    ctx.load?.setRateMultiplier(1);
    return Promise.resolve();
  },
};
