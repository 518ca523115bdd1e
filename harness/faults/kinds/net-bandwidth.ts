import { z } from "zod";
import { toxicInjector } from "../toxic.js";

export const netBandwidth = toxicInjector({
  kind: "net-bandwidth",
  type: "bandwidth",
  summary: "Cap a link's throughput at rate KB/s, KB = 1000 bytes (Toxiproxy bandwidth)",
  // 0 stalls the stream forever and a negative rate crashes Toxiproxy: both rejected.
  attributes: { rate: z.number().int().positive() },
  describe: (a) => `bandwidth ${a.rate} KB/s`,
});
