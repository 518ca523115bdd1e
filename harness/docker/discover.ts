import type Docker from "dockerode";
import { FaultError } from "../../common/errors.js";
import { COMPOSE_LABELS, labelFilter } from "./labels.js";

export interface DiscoveredContainer {
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  readonly project: string | null;
  readonly service: string | null;
  /** running | paused | exited | created | restarting | ... */
  readonly state: string;
  /** Compose's container number ("1", "2", ... in a scaled service), if labelled. */
  readonly containerNumber: string | null;
}

export interface ServiceQuery {
  readonly project?: string | undefined;
  readonly service?: string | undefined;
  /** Include stopped containers (default true: a killed container is still the target). */
  readonly all?: boolean;
}

/**
 * Containers of a compose project (or of any project) by the labels docker compose sets, so
 * users aim at "the worker of project shop" instead of a container id that changes every `up`.
 */
export async function discoverContainers(docker: Docker, q: ServiceQuery): Promise<DiscoveredContainer[]> {
  const label = labelFilter({ [COMPOSE_LABELS.project]: q.project, [COMPOSE_LABELS.service]: q.service });
  const list = await docker.listContainers({ all: q.all ?? true, filters: { label } });
  return list
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
      project: c.Labels[COMPOSE_LABELS.project] ?? null,
      service: c.Labels[COMPOSE_LABELS.service] ?? null,
      state: c.State,
      containerNumber: c.Labels[COMPOSE_LABELS.containerNumber] ?? null,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The one container of a service. Several replicas or several projects with that service are
 * an error that lists them, since a fault must hit a container the user chose.
 */
export async function discoverService(
  docker: Docker,
  q: ServiceQuery & { service: string },
): Promise<DiscoveredContainer> {
  const found = await discoverContainers(docker, q);
  const where = q.project ? `project "${q.project}"` : "any compose project";
  if (found.length === 0) {
    throw new FaultError(
      `no container of service "${q.service}" in ${where}`,
      "start the stack (docker compose up -d) or set the compose project name",
    );
  }
  if (found.length > 1) {
    throw new FaultError(
      `service "${q.service}" matches ${found.length} containers in ${where}: ${found.map((c) => c.name).join(", ")}`,
      q.project ? "aim at one container by name with params.container" : "name the compose project",
    );
  }
  return found[0];
}
