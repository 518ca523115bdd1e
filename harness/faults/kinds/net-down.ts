import { Toxiproxy } from "toxiproxy-node-client";
import { z } from "zod";
import type { Injector } from "../injector.js";
import { isNotFound, linkOf } from "../toxic.js";

const params = z.strictObject({});
type Params = z.infer<typeof params>;
type State = { url: string; proxy: string; listen: string; upstream: string };

async function enable(s: Pick<State, "url" | "proxy"> & Partial<State>): Promise<void> {
  try {
    const proxy = await new Toxiproxy(s.url).get(s.proxy);
    if (proxy.enabled) return;
    // Re-listen on the address it had when taken down (a port-0 proxy keeps its real port).
    await proxy.update({
      enabled: true,
      listen: s.listen ?? proxy.listen,
      upstream: s.upstream ?? proxy.upstream,
    });
  } catch (e) {
    if (!isNotFound(e)) throw e; // proxy deleted: nothing to bring back up
  }
}

/** Proxy down: the listener closes (new connects refused) and every open connection is closed. */
export const netDown: Injector<Params, State> = {
  kind: "net-down",
  summary: "Take a link down: connections refused and open ones closed (Toxiproxy proxy disabled)",
  params,
  targets: ["link"],
  isInstant: () => false,
  describe: (_p, target) => `${target} down`,
  async inject(_p, ctx) {
    const link = linkOf(ctx.targetName, ctx.target.toxiproxy);
    const proxy = await new Toxiproxy(link.url).get(link.proxy);
    const state = { url: link.url, proxy: link.proxy, listen: proxy.listen, upstream: proxy.upstream };
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    return state;
  },
  revert: (s) => enable(s),
  // Conservative: a link the scenario uses is meant to be up, so bring it up.
  revertPending: (_p, pending) => enable(linkOf(pending.targetName, pending.toxiproxy)),
};
