import { z } from "zod";
import type { Injector } from "../injector.js";
import {
  containerSelector,
  dockerOf,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";

const params = z.strictObject({
  ...containerSelector,
  /** Seconds between SIGTERM and SIGKILL. */
  timeoutSeconds: z.number().int().nonnegative().default(10),
});
type Params = z.infer<typeof params>;

/** `docker restart`: a graceful stop and a start, as a rolling deploy does. Instant. */
export const containerRestart: Injector<Params, ContainerRef> = {
  kind: "container-restart",
  summary: "Restart a container (graceful stop within timeoutSeconds, then start)",
  params,
  targets: ["container"],
  isInstant: () => true,
  describe: (p, target) => `restart ${target} (grace ${p.timeoutSeconds}s)`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    await onContainer(ref, "restart", () =>
      dockerOf(ctx).getContainer(ref.id).restart({ t: p.timeoutSeconds }),
    );
    return ref;
  },
  async revert() {
    // The restart already ended with the container started.
  },
};
