import type Docker from "dockerode";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { FaultContext, TargetHandles } from "../../faults/injector.js";
import { dockerClient, dockerMessage, dockerStatus } from "../client.js";
import { discoverService } from "../discover.js";

/**
 * What a Docker target adapter adds to TargetHandles: a client and the service -> container
 * lookup of the stack it runs or attached to. Injectors also work without it (attached to a
 * user's compose stack by labels), so this stays an optional extension.
 */
export interface DockerHandle {
  readonly client: Docker;
  /** Container id of a service of the target's stack, re-read each time (ids change on recreate). */
  containerOf(service: string): Promise<string>;
  /** Compose project the target runs as. */
  readonly project: string;
}

export type DockerTargetHandles = TargetHandles & { readonly docker?: DockerHandle };

/** Parameters every container fault takes to name its container besides the target. */
export const containerSelector = {
  /** A container id or name; overrides the target's service lookup. */
  container: z.string().min(1).optional(),
  /** Compose project to search when the target is not a Docker target adapter. */
  project: z.string().min(1).optional(),
};

/** A resolved container; a type alias so it is a JsonValue. */
export type ContainerRef = { id: string; name: string };

/** "container:worker" -> "worker". */
export function serviceOfTarget(targetName: string): string {
  const [role, service] = targetName.split(":");
  if (role !== "container" || service === undefined || service === "") {
    throw new FaultError(
      `target "${targetName}" does not name a container`,
      'write the target as "container:<compose service>", e.g. "container:worker"',
    );
  }
  return service;
}

export function dockerOf(ctx: FaultContext): Docker {
  return (ctx.target as DockerTargetHandles).docker?.client ?? dockerClient();
}

export async function resolveContainer(
  ctx: FaultContext,
  sel: { container?: string | undefined; project?: string | undefined },
): Promise<ContainerRef> {
  const docker = dockerOf(ctx);
  const handle = (ctx.target as DockerTargetHandles).docker;
  let id: string;
  if (sel.container !== undefined) id = sel.container;
  else if (handle && sel.project === undefined)
    id = await handle.containerOf(serviceOfTarget(ctx.targetName));
  else
    id = (await discoverService(docker, { project: sel.project, service: serviceOfTarget(ctx.targetName) }))
      .id;
  try {
    const info = await docker.getContainer(id).inspect();
    return { id: info.Id, name: info.Name.replace(/^\//, "") };
  } catch (error) {
    throw new FaultError(`container "${id}" cannot be inspected: ${dockerMessage(error)}`);
  }
}

/**
 * Runs a revert step that must be idempotent: a container that is gone (404) or already in
 * the wanted state (304) is not an error.
 */
export async function idempotent(step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    const status = dockerStatus(error);
    if (status === 404 || status === 304) return;
    throw new FaultError(`docker: ${dockerMessage(error)}`);
  }
}

/** Runs an inject step, turning engine errors into a FaultError that names the container. */
export async function onContainer<T>(ref: ContainerRef, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new FaultError(`${what} ${ref.name} failed: ${dockerMessage(error)}`);
  }
}
