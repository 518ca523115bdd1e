/**
 * Labels faultline puts on every image, container and network it makes, so cleanup can find
 * them without any state file, and the compose labels it reads to find a user's services.
 */
export const LABELS = {
  /** "true" on everything faultline made (images, containers, networks). */
  managed: "io.faultline.managed",
  /** Run id of the run that made a container or network; absent on images. */
  run: "io.faultline.run",
  /** Which faultline image this is: runtime | reference | toxiproxy. */
  image: "io.faultline.image",
  /** Replica number of an API container when the target runs several behind HAProxy. */
  replica: "io.faultline.replica",
} as const;

/** The labels docker compose sets; discovery and our own stack use the same two. */
export const COMPOSE_LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  /** 1, 2, ... for the containers of a scaled service (`--scale api=2`). */
  containerNumber: "com.docker.compose.container-number",
} as const;

/** Docker label filter syntax (`key=value` or `key`), as the list endpoints take it. */
export function labelFilter(labels: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}
