import { nonNegInt, toxicInjector } from "../toxic.js";

export const netLatency = toxicInjector({
  kind: "net-latency",
  type: "latency",
  summary: "Delay each chunk on a link by latency ± jitter ms (Toxiproxy latency)",
  attributes: { latency: nonNegInt, jitter: nonNegInt.default(0) },
  describe: (a) => `+${a.latency}ms${a.jitter ? ` ±${a.jitter}ms` : ""} latency`,
});
