import type Docker from "dockerode";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector, PendingContext } from "../injector.js";
import { dockerClient } from "../../docker/client.js";
import {
  containerSelector,
  dockerOf,
  idempotent,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";
import { lowerUpdate, mib, restoreUpdate, MIN_LIMIT_BYTES } from "../../docker/faults/memory-limits.js";
import { occurrenceIdOf, readStash, removeStash, writeStash } from "../../docker/faults/stash.js";

const params = z
  .strictObject({
    ...containerSelector,
    /** New memory limit (memory+swap is set to the same, so the container cannot swap). */
    limitMiB: z
      .number()
      .positive()
      .refine((v) => v * 1024 * 1024 >= MIN_LIMIT_BYTES, { error: "Docker refuses limits under 6 MiB" })
      .optional(),
    /**
     * Or: the limit is the container's memory use at inject time plus this much. cgroup v1
     * refuses a limit below current use, so this is the way to squeeze a service whose use
     * varies there; growth past the headroom is then an OOM kill.
     */
    headroomMiB: z.number().positive().optional(),
  })
  .refine((p) => (p.limitMiB === undefined) !== (p.headroomMiB === undefined), {
    error: "give exactly one of limitMiB (a fixed limit) or headroomMiB (current use plus this)",
  });
type Params = z.infer<typeof params>;
type State = ContainerRef & {
  occurrenceId: string;
  limitBytes: number;
  original: { memory: number; memorySwap: number };
  /** Wall time the limit took effect; OOM events are looked up from here. */
  injectedAtMs: number;
};

/** Memory the kernel charges the container now (what cgroup v1 compares a new limit with). */
async function memoryUseMiB(docker: Docker, ref: ContainerRef): Promise<number> {
  const stats = (await onContainer(ref, "reading the memory use of", () =>
    docker.getContainer(ref.id).stats({ stream: false, "one-shot": true } as { stream: false }),
  )) as { memory_stats?: { usage?: number } };
  const usage = stats.memory_stats?.usage;
  if (usage === undefined || usage <= 0)
    throw new FaultError(`${ref.name} reports no memory use`, "is it running? use limitMiB instead");
  return usage / 1024 / 1024;
}

async function restore(state: State): Promise<void> {
  await idempotent(() => dockerClient().getContainer(state.id).update(restoreUpdate(state.original)));
  await removeStash(state.occurrenceId);
}

/**
 * Lowers a container's memory limit for the fault's duration (`docker update --memory`), so
 * the service meets a host-level out-of-memory: when its processes grow past the limit the
 * kernel OOM-kills them and Docker marks the container OOMKilled (reported by
 * `oomKillsSince` and by the Docker target's event log). The original limits are put back
 * at revert. With cgroup v1 the kernel refuses a limit below current usage, and the inject
 * fails with the engine's message.
 */
export const containerMemoryLimit: Injector<Params, State> = {
  kind: "container-memory-limit",
  summary: "Lower a container's memory limit (no swap) for the duration; growth past it is a real OOM kill",
  params,
  targets: ["container"],
  isInstant: () => false,
  describe: (p, target) =>
    p.limitMiB !== undefined
      ? `limit ${target} to ${p.limitMiB} MiB of memory (no swap)`
      : `limit ${target} to its memory use + ${p.headroomMiB} MiB (no swap)`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    const docker = dockerOf(ctx);
    const info = await docker.getContainer(ref.id).inspect();
    const limitMiB = p.limitMiB ?? (await memoryUseMiB(docker, ref)) + (p.headroomMiB ?? 0);
    const state: State = {
      ...ref,
      occurrenceId: occurrenceIdOf(ctx),
      limitBytes: Math.max(MIN_LIMIT_BYTES, Math.round(limitMiB * 1024 * 1024)),
      original: { memory: info.HostConfig.Memory ?? 0, memorySwap: info.HostConfig.MemorySwap ?? 0 },
      injectedAtMs: ctx.clock.now(),
    };
    await writeStash(state.occurrenceId, state);
    await onContainer(ref, `memory limit ${mib(state.limitBytes)} on`, () =>
      docker.getContainer(ref.id).update(lowerUpdate(state.limitBytes)),
    );
    return state;
  },
  revert: (state) => restore(state),
  async revertPending(_p, pending: PendingContext) {
    const state = await readStash<State>(pending.occurrenceId);
    if (state !== null) await restore(state);
  },
};

export interface OomReport {
  /** Kernel OOM kills the engine reported for the container since the given time. */
  readonly oomEvents: number;
  /** The container's State.OOMKilled now (reset by Docker when the container starts again). */
  readonly oomKilled: boolean;
  readonly status: string;
  readonly exitCode: number;
}

/** What happened to a container's memory since `sinceMs`: the OOM events and its state now. */
export async function oomKillsSince(
  docker: Docker,
  id: string,
  sinceMs: number,
  untilMs: number,
): Promise<OomReport> {
  const stream = await docker.getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.ceil(untilMs / 1000) + 1,
    filters: { container: [id], event: ["oom"] },
  });
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  const oomEvents = text.split("\n").filter((l) => l.trim() !== "").length;
  const info = await docker.getContainer(id).inspect();
  return {
    oomEvents,
    oomKilled: info.State.OOMKilled,
    status: info.State.Status,
    exitCode: info.State.ExitCode,
  };
}
