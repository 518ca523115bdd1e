import type Docker from "dockerode";
import { LABELS } from "./labels.js";

export interface RemovedResources {
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  readonly images: readonly string[];
}

/**
 * Removes what faultline made, found by label alone: the containers and networks of one run
 * (or of every run when runId is null), and with `images` also faultline's images.
 */
export async function removeRunResources(
  docker: Docker,
  runId: string | null,
  opts: { images?: boolean } = {},
): Promise<RemovedResources> {
  const label = runId === null ? [`${LABELS.managed}=true`] : [`${LABELS.run}=${runId}`];
  const containers: string[] = [];
  for (const c of await docker.listContainers({ all: true, filters: { label } })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
    containers.push((c.Names[0] ?? c.Id).replace(/^\//, ""));
  }
  const networks: string[] = [];
  for (const n of await docker.listNetworks({ filters: { label } })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
    networks.push(n.Name);
  }
  const images: string[] = [];
  if (opts.images) {
    for (const i of await docker.listImages({ filters: { label: [`${LABELS.managed}=true`] } })) {
      for (const tag of i.RepoTags ?? [i.Id]) {
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => {});
        images.push(tag);
      }
    }
  }
  return { containers: containers.sort(), networks: networks.sort(), images: images.sort() };
}
