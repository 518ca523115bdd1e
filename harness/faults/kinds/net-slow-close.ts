import { nonNegInt, toxicInjector } from "../toxic.js";

export const netSlowClose = toxicInjector({
  kind: "net-slow-close",
  type: "slow_close",
  summary: "Delay the close of a link's connections by delay ms (Toxiproxy slow_close)",
  attributes: { delay: nonNegInt },
  describe: (a) => `close delayed ${a.delay}ms`,
});
