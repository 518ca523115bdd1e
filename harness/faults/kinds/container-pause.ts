import { z } from "zod";
import type { Injector, PendingContext } from "../injector.js";
import { dockerClient, dockerMessage, dockerStatus } from "../../docker/client.js";
import { FaultError } from "../../../common/errors.js";
import {
  containerSelector,
  dockerOf,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";
import { occurrenceIdOf, readStash, removeStash, writeStash } from "../../docker/faults/stash.js";

const params = z.strictObject({ ...containerSelector });
type Params = z.infer<typeof params>;
type State = ContainerRef & { occurrenceId: string };

/** Unpauses when paused; a running, stopped or removed container is left as it is. */
async function unpause(id: string): Promise<void> {
  const c = dockerClient().getContainer(id);
  try {
    const info = await c.inspect();
    if (info.State.Paused) await c.unpause();
  } catch (error) {
    if (dockerStatus(error) === 404) return;
    throw new FaultError(`unpause ${id} failed: ${dockerMessage(error)}`);
  }
}

/**
 * `docker pause` (the cgroup freezer) for the fault's duration: every process of the container
 * stops at once and holds its sockets, so clients see a stall, not a refusal.
 */
export const containerPause: Injector<Params, State> = {
  kind: "container-pause",
  summary: "Freeze every process of a container (docker pause) for the duration, then unpause",
  params,
  targets: ["container"],
  isInstant: () => false,
  describe: (_p, target) => `pause ${target} ... unpause`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    const state: State = { ...ref, occurrenceId: occurrenceIdOf(ctx) };
    await writeStash(state.occurrenceId, state);
    await onContainer(ref, "pause", () => dockerOf(ctx).getContainer(ref.id).pause());
    return state;
  },
  async revert(state) {
    await unpause(state.id);
    await removeStash(state.occurrenceId);
  },
  async revertPending(_p, pending: PendingContext) {
    // Stashed before the pause was sent; no stash = the pause was never sent.
    const state = await readStash<State>(pending.occurrenceId);
    if (state === null) return;
    await unpause(state.id);
    await removeStash(pending.occurrenceId);
  },
};
