import { nonNegInt, toxicInjector } from "../toxic.js";

export const netTimeout = toxicInjector({
  kind: "net-timeout",
  type: "timeout",
  summary: "Drop all data on a link and close after timeout ms idle; 0 = never close (Toxiproxy timeout)",
  attributes: { timeout: nonNegInt },
  describe: (a) => (a.timeout ? `black hole, close after ${a.timeout}ms` : "black hole"),
});
