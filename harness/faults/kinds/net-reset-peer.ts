import { nonNegInt, toxicInjector } from "../toxic.js";

export const netResetPeer = toxicInjector({
  kind: "net-reset-peer",
  type: "reset_peer",
  summary: "Reset new connections (TCP RST) timeout ms after their first data (Toxiproxy reset_peer)",
  attributes: { timeout: nonNegInt.default(0) },
  describe: (a) => `connection reset${a.timeout ? ` after ${a.timeout}ms` : ""}`,
});
