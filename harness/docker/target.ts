import { join } from "node:path";
import type Docker from "dockerode";
import { RunNotPossibleError } from "../../common/errors.js";
import { ROUTES } from "../targets/protocol.js";
import type { RunningTarget, TargetContext } from "../targets/target.js";
import { dockerClient, dockerMessage } from "./client.js";
import { FaultError } from "../../common/errors.js";
import { HAPROXY_CONTAINER_PORTS, haproxyContainerConfig } from "../targets/haproxy-config.js";
import { observeHaproxy, type HaproxyView, type RuntimeApi } from "../targets/haproxy.js";
import { discoverContainers, discoverService } from "./discover.js";
import { putFile } from "./put-file.js";
import { saveContainerLog } from "./container-log.js";
import { IMAGE_PATHS } from "./rootfs.js";
import { dockerAvailable } from "./engine.js";
import { watchProjectEvents, whoOf, type EngineEvent } from "./events.js";
import { recoveryWatcher } from "./recovery-watch.js";
import type { DockerHandle, DockerTargetHandles } from "./faults/container-ref.js";
import { CONTAINER_PORTS, type ImageKind } from "./image-specs.js";
import { removeRunResources } from "./resources.js";
import { ensureImages } from "./images.js";
import { packageRoot } from "../../common/package-root.js";
import { populateProxies } from "./proxy-populate.js";
import {
  API_PROXY,
  containerName,
  containerSpec,
  freeLoopbackPort,
  networkName,
  stackLabels,
  type StackOptions,
} from "./stack.js";

export interface DockerTargetOptions {
  readonly docker?: Docker;
  /** start: create the stack from faultline's images; attach: use a running compose project. */
  readonly mode: "start" | "attach";
  readonly runId: string;
  /** Compose project; attach needs it, start defaults to `faultline-<runId>`. */
  readonly project?: string;
  /** start: image tag built by `faultline images build` (default "local"). */
  readonly tag?: string;
  /** start: run the toxiproxy container in front of the API (default false). */
  readonly proxy?: boolean;
  /** start: serve the model from a second reference container the API forwards to (default false). */
  readonly model?: boolean;
  /** start: API containers behind a HAProxy container (service lb) when above 1 (default 1). */
  readonly replicas?: number;
  readonly apiArgs?: readonly string[];
  /** attach: the service that answers HTTP and its container port (default api, 8080). */
  readonly service?: string;
  readonly port?: number;
  readonly readyPath?: string;
  /** start: leave containers and network in place after stop (for inspection). */
  readonly keep?: boolean;
  readonly startTimeoutMs?: number;
  /** start: build the images first when missing or older than dist/ (default), or never. */
  readonly build?: "if-stale" | "never";
}

/** How long a died container is followed for its restart-policy recovery. */
const RECOVERY_TIMEOUT_MS = 120_000;

export interface DockerRunningTarget extends RunningTarget {
  readonly kind: "docker";
  readonly handles: DockerTargetHandles;
  readonly project: string;
  /** Client-facing URL through the stack's toxiproxy, when it runs one. */
  readonly proxyUrl: string | null;
}

/**
 * The Docker target adapter: runs the reference system as containers (or attaches to a
 * user's compose project by labels), waits until the API is ready, logs container events
 * (died, OOMKilled, restarted, health) into the run's events, and removes what it created on
 * stop unless `keep`. Injectors reach containers through `handles.docker`.
 */
export async function startDockerTarget(
  o: DockerTargetOptions,
  ctx: TargetContext,
): Promise<DockerRunningTarget> {
  const docker = o.docker ?? dockerClient(ctx.env);
  const available = await dockerAvailable(docker);
  if (!available.ok)
    throw new RunNotPossibleError(
      available.reason,
      "run harness/docker/setup.sh as root, or set DOCKER_HOST",
    );
  const project = o.project ?? `faultline-${o.runId}`;
  const eventTime = (atMs: number): number => (ctx.originMs() === 0 ? 0 : Math.max(0, atMs - ctx.originMs()));
  const created = o.mode === "start";
  let stopWatch: () => void = () => {};
  let recovery: ReturnType<typeof recoveryWatcher> | null = null;
  let lb: HaproxyView | null = null;
  // Journaled before anything is created, so a killed harness's containers are found by
  // `faultline cleanup` (by the run label every one of them carries).
  const mark = created
    ? await ctx.started?.record(`containers of run ${o.runId}`, { type: "docker-run", runId: o.runId })
    : undefined;
  const teardown = async (): Promise<void> => {
    // Before the containers go: HAProxy's final counters and its log (one line per request,
    // with the termination state of each cut one) are written to the run directory.
    if (lb !== null) {
      await lb.stop();
      await saveContainerLog(docker, containerName(project, "lb"), join(ctx.runDir, "haproxy.log"));
    }
    stopWatch();
    recovery?.stop();
    if (created && !o.keep) await removeRunResources(docker, o.runId);
    await mark?.forget();
  };
  const onEvent = (message: string, atMs: number, e: EngineEvent): void => {
    ctx.onEvent({ tMs: eventTime(atMs), kind: "target", message });
    const id = e.Actor?.ID ?? e.id;
    if (e.Action === "die" && id !== undefined) recovery?.died(id, whoOf(e), atMs);
  };
  try {
    stopWatch = await watchProjectEvents(docker, project, onEvent);
    const endpoints = created ? await startStack(docker, o, project) : await attachStack(docker, o, project);
    const readyUrl = `${endpoints.url}${o.readyPath ?? ROUTES.ready}`;
    await waitReady(readyUrl, o.startTimeoutMs ?? 60_000);
    if (endpoints.lb !== null) lb = await observeLb(endpoints.url, endpoints.lb, o, project, ctx, eventTime);
    recovery = recoveryWatcher({
      docker,
      clock: ctx.clock,
      readyUrl,
      timeoutMs: RECOVERY_TIMEOUT_MS,
      report: (message, atMs) => ctx.onEvent({ tMs: eventTime(atMs), kind: "target", message }),
    });
    const handle: DockerHandle = {
      client: docker,
      project,
      containerOf: (service) => containerOfService(docker, project, service),
    };
    return {
      kind: "docker",
      description:
        endpoints.lb === null
          ? `${created ? "containers" : "compose project"} ${project} (${endpoints.url})`
          : `containers ${project}: ${o.replicas ?? 1} API replicas behind HAProxy (${endpoints.url})`,
      url: endpoints.url,
      proxyUrl: endpoints.proxyUrl,
      project,
      handles: {
        docker: handle,
        ...(endpoints.toxiproxyUrl
          ? { toxiproxy: { url: endpoints.toxiproxyUrl, links: { "client-api": API_PROXY.name } } }
          : {}),
      },
      stop: teardown,
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}

/** The images a started stack runs. */
function imageKinds(s: StackOptions): ImageKind[] {
  return [
    "reference",
    ...(s.proxy ? ["toxiproxy" as const] : []),
    ...((s.replicas ?? 1) > 1 ? ["haproxy" as const] : []),
  ];
}

/** Follows the stack's HAProxy as process mode does: replica status changes become run events. */
function observeLb(
  url: string,
  lb: NonNullable<Endpoints["lb"]>,
  o: DockerTargetOptions,
  project: string,
  ctx: TargetContext,
  eventTime: (atMs: number) => number,
): Promise<HaproxyView> {
  return observeHaproxy({
    url,
    statsUrl: lb.statsUrl,
    runtimeApi: lb.runtimeApi,
    replicas: o.replicas ?? 1,
    ctx,
    event: (message) => ctx.onEvent({ tMs: eventTime(ctx.clock.now()), kind: "target", message }),
    unreadyHint: `docker logs ${containerName(project, "api", 1)} (and the other replicas), docker logs ${containerName(project, "lb")}`,
    startTimeoutMs: o.startTimeoutMs ?? 60_000,
  });
}

interface Endpoints {
  readonly url: string;
  readonly proxyUrl: string | null;
  readonly toxiproxyUrl: string | null;
  /** HAProxy's stats page and runtime API, published on the host's loopback (replicas only). */
  readonly lb: { readonly statsUrl: string; readonly runtimeApi: RuntimeApi } | null;
}

/**
 * The container of a service, or of one replica: "api#2" is the API container whose compose
 * container number is 2 (faultline's own replicas, or a project scaled with --scale api=N).
 */
export async function containerOfService(docker: Docker, project: string, service: string): Promise<string> {
  const m = /^(.+)#(\d+)$/.exec(service);
  if (m === null) return (await discoverService(docker, { project, service })).id;
  const [, name = "", n = ""] = m;
  const all = await discoverContainers(docker, { project, service: name });
  const one = all.filter((c) => c.containerNumber === n);
  if (one.length === 1 && one[0] !== undefined) return one[0].id;
  throw new FaultError(
    `no single container ${n} of service "${name}" in project "${project}" (found: ${all.map((c) => c.name).join(", ") || "none"})`,
    `aim at one of ${name}#1..${name}#${all.length}, or set target.replicas`,
  );
}

async function startStack(docker: Docker, o: DockerTargetOptions, project: string): Promise<Endpoints> {
  const s: StackOptions = {
    project,
    runId: o.runId,
    tag: o.tag ?? "local",
    proxy: o.proxy ?? false,
    model: o.model ?? false,
    apiArgs: o.apiArgs ?? [],
    replicas: o.replicas ?? 1,
    restart: "unless-stopped",
  };
  const replicas = s.replicas ?? 1;
  try {
    if ((o.build ?? "if-stale") === "if-stale") {
      await ensureImages({
        docker,
        projectRoot: packageRoot(),
        tag: s.tag,
        kinds: imageKinds(s),
      });
    }
    await docker.createNetwork({ Name: networkName(project), Labels: stackLabels(s) });
    if (s.model) await (await docker.createContainer(containerSpec(s, "model", {}))).start();
    if (replicas > 1) return await startReplicas(docker, s, replicas);
    const apiPort = await freeLoopbackPort();
    await (
      await docker.createContainer(containerSpec(s, "api", { [CONTAINER_PORTS.reference]: apiPort }))
    ).start();
    const url = `http://127.0.0.1:${apiPort}`;
    if (!s.proxy) return { url, proxyUrl: null, toxiproxyUrl: null, lb: null };
    const [adminPort, listenPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const ports = { [CONTAINER_PORTS.toxiproxyApi]: adminPort, [API_PROXY.listenPort]: listenPort };
    await (await docker.createContainer(containerSpec(s, "toxiproxy", ports))).start();
    const toxiproxyUrl = `http://127.0.0.1:${adminPort}`;
    await populateProxies(toxiproxyUrl, [API_PROXY], 30_000);
    return { url, proxyUrl: `http://127.0.0.1:${listenPort}`, toxiproxyUrl, lb: null };
  } catch (e) {
    if (e instanceof RunNotPossibleError) throw e;
    throw new RunNotPossibleError(
      `could not start the containers: ${dockerMessage(e)}`,
      "build the images first: faultline images build",
    );
  }
}

/**
 * N API containers (no published port: only HAProxy reaches them, on the run's network) and
 * one HAProxy container with the configuration process mode writes, rendered for containers;
 * its frontend, stats page and runtime API are published on the host's loopback.
 */
async function startReplicas(docker: Docker, s: StackOptions, replicas: number): Promise<Endpoints> {
  for (let n = 1; n <= replicas; n++)
    await (await docker.createContainer(containerSpec(s, "api", {}, n))).start();
  const P = HAPROXY_CONTAINER_PORTS;
  const [frontend, stats, runtime] = [
    await freeLoopbackPort(),
    await freeLoopbackPort(),
    await freeLoopbackPort(),
  ];
  const lb = await docker.createContainer(
    containerSpec(s, "lb", { [P.frontend]: frontend, [P.stats]: stats, [P.runtimeApi]: runtime }),
  );
  await putFile(lb, IMAGE_PATHS.haproxyConfig, haproxyContainerConfig(replicas, CONTAINER_PORTS.reference));
  await lb.start();
  return {
    url: `http://127.0.0.1:${frontend}`,
    proxyUrl: null,
    toxiproxyUrl: null,
    lb: { statsUrl: `http://127.0.0.1:${stats}`, runtimeApi: { host: "127.0.0.1", port: runtime } },
  };
}

async function attachStack(docker: Docker, o: DockerTargetOptions, project: string): Promise<Endpoints> {
  const service = o.service ?? "api";
  const port = o.port ?? CONTAINER_PORTS.reference;
  const found = await discoverService(docker, { project, service, all: false });
  const info = await docker.getContainer(found.id).inspect();
  const ports = info.NetworkSettings.Ports as Record<
    string,
    { HostIp: string; HostPort: string }[] | null
  > | null;
  const binding = ports?.[`${port}/tcp`]?.[0];
  if (!binding) {
    throw new RunNotPossibleError(
      `${found.name} publishes no host port for ${port}/tcp`,
      `publish it (ports: ["127.0.0.1::${port}"]) or name the container port with target.port`,
    );
  }
  const host = binding.HostIp === "" || binding.HostIp === "0.0.0.0" ? "127.0.0.1" : binding.HostIp;
  return { url: `http://${host}:${binding.HostPort}`, proxyUrl: null, toxiproxyUrl: null, lb: null };
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new RunNotPossibleError(
    `the service did not become ready at ${url} within ${timeoutMs} ms (${last})`,
  );
}
