import { z } from "zod";
import type { Injector } from "../injector.js";
import { dockerClient } from "../../docker/client.js";
import {
  containerSelector,
  dockerOf,
  idempotent,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";

const params = z.strictObject({
  ...containerSelector,
  /** Seconds between SIGTERM and SIGKILL (the container's graceful-stop budget). */
  timeoutSeconds: z.number().int().nonnegative().default(10),
});
type Params = z.infer<typeof params>;

/**
 * `docker stop` for the fault's duration, `docker start` at revert: a planned outage (a node
 * drained for maintenance). A stopped container is not restarted by its restart policy.
 */
export const containerStop: Injector<Params, ContainerRef> = {
  kind: "container-stop",
  summary: "Stop a container (SIGTERM, then SIGKILL after timeoutSeconds) and start it again at revert",
  params,
  targets: ["container"],
  isInstant: () => false,
  describe: (p, target) => `stop ${target} (grace ${p.timeoutSeconds}s) ... start`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    await onContainer(ref, "stop", () => dockerOf(ctx).getContainer(ref.id).stop({ t: p.timeoutSeconds }));
    return ref;
  },
  async revert(state) {
    // 304 = already running: reverting twice is fine.
    await idempotent(() => dockerClient().getContainer(state.id).start());
  },
};
