import { nonNegInt, toxicInjector } from "../toxic.js";

export const netLimitData = toxicInjector({
  kind: "net-limit-data",
  type: "limit_data",
  summary: "Close a link's connections after bytes bytes (Toxiproxy limit_data)",
  attributes: { bytes: nonNegInt },
  describe: (a) => `connections closed after ${a.bytes} bytes`,
});
