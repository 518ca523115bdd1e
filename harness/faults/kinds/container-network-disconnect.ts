import { z } from "zod";
import type { Injector, PendingContext } from "../injector.js";
import { FaultError } from "../../../common/errors.js";
import { dockerClient, dockerMessage } from "../../docker/client.js";
import {
  containerSelector,
  dockerOf,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";
import { occurrenceIdOf, readStash, removeStash, writeStash } from "../../docker/faults/stash.js";

const params = z.strictObject({
  ...containerSelector,
  /** One network to cut; omit to cut every network the container is on (a full partition). */
  network: z.string().min(1).optional(),
});
type Params = z.infer<typeof params>;
/** What reconnecting needs: the network and the DNS aliases the container had on it (its service name). */
type Endpoint = { network: string; aliases: string[] };
type State = ContainerRef & { occurrenceId: string; endpoints: Endpoint[] };

/** Reconnects each endpoint the container is not on any more, with its aliases. */
async function reconnect(state: State): Promise<void> {
  const docker = dockerClient();
  let attached: string[];
  try {
    attached = Object.keys((await docker.getContainer(state.id).inspect()).NetworkSettings.Networks);
  } catch {
    return; // container gone: nothing to reconnect
  }
  for (const ep of state.endpoints) {
    if (attached.includes(ep.network)) continue;
    try {
      await docker.getNetwork(ep.network).connect({
        Container: state.id,
        // The default bridge takes no aliases.
        ...(ep.network === "bridge" ? {} : { EndpointConfig: { Aliases: ep.aliases } }),
      });
    } catch (error) {
      throw new FaultError(`reconnect ${state.name} to ${ep.network} failed: ${dockerMessage(error)}`);
    }
  }
  await removeStash(state.occurrenceId);
}

/**
 * Disconnects a container from its network(s) for the fault's duration (a partition: peers
 * get connection errors or timeouts, the container keeps running), and reconnects it with the
 * same aliases at revert, so compose service names resolve again.
 */
export const containerNetworkDisconnect: Injector<Params, State> = {
  kind: "container-network-disconnect",
  summary: "Disconnect a container from one or all of its networks (a partition), reconnect at revert",
  params,
  targets: ["container"],
  isInstant: () => false,
  describe: (p, target) => `disconnect ${target} from ${p.network ?? "all its networks"} ... reconnect`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    const docker = dockerOf(ctx);
    const nets = (await docker.getContainer(ref.id).inspect()).NetworkSettings.Networks;
    const names = p.network === undefined ? Object.keys(nets) : [p.network];
    const shortId = ref.id.slice(0, 12);
    const endpoints = names.map((network) => {
      const ep = nets[network];
      if (ep === undefined) {
        throw new FaultError(
          `${ref.name} is not on network "${network}"`,
          `it is on: ${Object.keys(nets).join(", ")}`,
        );
      }
      // Docker adds the short id as an alias by itself on connect.
      const aliases: unknown = ep.Aliases;
      const list = Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === "string") : [];
      return { network, aliases: list.filter((a) => a !== shortId) };
    });
    const state: State = { ...ref, occurrenceId: occurrenceIdOf(ctx), endpoints };
    await writeStash(state.occurrenceId, state);
    for (const ep of endpoints) {
      await onContainer(ref, `disconnect from ${ep.network}:`, () =>
        docker.getNetwork(ep.network).disconnect({ Container: ref.id, Force: true }),
      );
    }
    return state;
  },
  revert: (state) => reconnect(state),
  async revertPending(_p, pending: PendingContext) {
    const state = await readStash<State>(pending.occurrenceId);
    if (state !== null) await reconnect(state);
  },
};
