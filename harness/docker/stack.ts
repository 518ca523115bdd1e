import { createServer } from "node:net";
import type Docker from "dockerode";
import { CONTAINER_PORTS, imageRef } from "./image-specs.js";
import { COMPOSE_LABELS, LABELS } from "./labels.js";
import { replicaAlias } from "../targets/haproxy-config.js";

/**
 * The reference system as containers, the same shape docker-compose.yml declares, for the
 * Docker target adapter to create through the engine API (no compose binary needed):
 *
 *   client ─► [toxiproxy: proxy "api", optional] ─► api (reference API + its worker process)
 *                                                      └─► [model: a second reference instance
 *                                                           the API forwards to, optional]
 *
 * With `replicas` above 1, the API is N containers (`<project>-api-1`, ... as `docker compose
 * up --scale api=N` names them; network aliases api-1, api-2, ...) behind one HAProxy
 * container (service lb) whose frontend is the client-facing port:
 *
 *   client ─► lb (HAProxy) ─► api-1, api-2, ... (each a reference API + its worker)
 *
 * The worker is not a container of its own: the API spawns and supervises it as a child
 * process and talks to it through a file spool in its state directory (see DESIGN.md), so it
 * lives in the API's container, as a sidecar process would.
 */
export const STACK_SERVICES = ["api", "toxiproxy", "model", "lb"] as const;
export type StackService = (typeof STACK_SERVICES)[number];

/** The proxy the stack's toxiproxy serves between clients and the API. */
export const API_PROXY = {
  name: "api",
  listenPort: 8666,
  upstream: `api:${CONTAINER_PORTS.reference}`,
} as const;

/** Where the API reaches the model service on the stack's network. */
export const MODEL_UPSTREAM = `http://model:${CONTAINER_PORTS.reference}`;

export interface StackOptions {
  readonly project: string;
  readonly runId: string;
  readonly tag: string;
  /** Run the toxiproxy container between clients and the API. */
  readonly proxy: boolean;
  /**
   * Serve the model from a second reference container (service "model") that the API reaches
   * over the stack's network (its --upstream), so a network cut between API and model server
   * is a container fault (absent: false).
   */
  readonly model?: boolean;
  /** Extra flags for the reference service (e.g. ["--breaker.failure-threshold", "3"]). */
  readonly apiArgs: readonly string[];
  /** API containers behind HAProxy (service lb) when above 1 (absent: 1, no HAProxy). */
  readonly replicas?: number;
  /** Restart policy of every service (compose's `restart:`). */
  readonly restart: "no" | "always" | "unless-stopped" | "on-failure";
}

export const networkName = (project: string): string => `${project}_default`;
export const containerName = (project: string, service: StackService, replica = 1): string =>
  `${project}-${service}-${replica}`;

export function stackLabels(
  o: StackOptions,
  service?: StackService,
  replica?: number,
): Record<string, string> {
  return {
    [LABELS.managed]: "true",
    [LABELS.run]: o.runId,
    [COMPOSE_LABELS.project]: o.project,
    ...(service ? { [COMPOSE_LABELS.service]: service } : {}),
    ...(replica === undefined
      ? {}
      : { [COMPOSE_LABELS.containerNumber]: String(replica), [LABELS.replica]: String(replica) }),
  };
}

/**
 * Host ports are chosen here, not left to the engine: an ephemeral published port changes on
 * every restart of the container, and clients must keep one URL across a kill and restart.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function publish(ports: Readonly<Record<number, number>>): Pick<
  Docker.ContainerCreateOptions,
  "ExposedPorts"
> & {
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const [inner, host] of Object.entries(ports)) {
    exposed[`${inner}/tcp`] = {};
    bindings[`${inner}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: String(host) }];
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

/**
 * Create options of one service's container; `hostPorts` maps container port -> host port.
 * `replica` (1-based) makes it one of several API containers behind HAProxy: its own name,
 * alias (api-N, as HAProxy's configuration names it) and replica labels.
 */
export function containerSpec(
  o: StackOptions,
  service: StackService,
  hostPorts: Readonly<Record<number, number>>,
  replica?: number,
): Docker.ContainerCreateOptions {
  const net = networkName(o.project);
  const { ExposedPorts, PortBindings } = publish(hostPorts);
  const common = {
    name: containerName(o.project, service, replica),
    Labels: stackLabels(o, service, replica),
    ExposedPorts,
    NetworkingConfig: {
      EndpointsConfig: { [net]: { Aliases: [replica === undefined ? service : replicaAlias(replica)] } },
    },
  };
  // docker-init as PID 1: it reaps the worker if the API dies and forwards signals.
  const host = { NetworkMode: net, PortBindings, Init: true, RestartPolicy: { Name: o.restart } };
  const serve = [
    "--host",
    "0.0.0.0",
    "--port",
    String(CONTAINER_PORTS.reference),
    "--state-dir",
    "/var/lib/faultline/reference",
    // In its own network namespace, published on the host's loopback only (PortBindings).
    "--allow-non-loopback",
  ];
  switch (service) {
    case "api":
      return {
        ...common,
        Image: imageRef("reference", o.tag),
        Cmd: [...serve, ...(o.model ? ["--upstream", MODEL_UPSTREAM] : []), ...o.apiArgs],
        HostConfig: host,
      };
    case "model":
      return {
        ...common,
        Image: imageRef("reference", o.tag),
        Cmd: [...serve, ...o.apiArgs],
        HostConfig: host,
      };
    case "toxiproxy":
      return { ...common, Image: imageRef("toxiproxy", o.tag), HostConfig: host };
    case "lb":
      // The image's own entrypoint and command; its configuration is put in before start.
      return { ...common, Image: imageRef("haproxy", o.tag), HostConfig: host };
    default: {
      const never: never = service;
      throw new Error(`unknown service ${String(never)}`);
    }
  }
}
