import type Docker from "dockerode";
import { RunNotPossibleError } from "../../common/errors.js";
import { ROUTES } from "../targets/protocol.js";
import type { RunningTarget, TargetContext } from "../targets/target.js";
import { dockerClient, dockerMessage } from "./client.js";
import { discoverService } from "./discover.js";
import { dockerAvailable } from "./engine.js";
import { watchProjectEvents, whoOf, type EngineEvent } from "./events.js";
import { recoveryWatcher } from "./recovery-watch.js";
import type { DockerHandle, DockerTargetHandles } from "./faults/container-ref.js";
import { CONTAINER_PORTS } from "./image-specs.js";
import { removeRunResources } from "./resources.js";
import { ensureImages } from "./images.js";
import { packageRoot } from "./images-command.js";
import { populateProxies } from "./proxy-populate.js";
import {
  API_PROXY,
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
  // Journaled before anything is created, so a killed harness's containers are found by
  // `faultline cleanup` (by the run label every one of them carries).
  const mark = created
    ? await ctx.started?.record(`containers of run ${o.runId}`, { type: "docker-run", runId: o.runId })
    : undefined;
  const teardown = async (): Promise<void> => {
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
      containerOf: async (service) => (await discoverService(docker, { project, service })).id,
    };
    return {
      kind: "docker",
      description: `${created ? "containers" : "compose project"} ${project} (${endpoints.url})`,
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

interface Endpoints {
  readonly url: string;
  readonly proxyUrl: string | null;
  readonly toxiproxyUrl: string | null;
}

async function startStack(docker: Docker, o: DockerTargetOptions, project: string): Promise<Endpoints> {
  const s: StackOptions = {
    project,
    runId: o.runId,
    tag: o.tag ?? "local",
    proxy: o.proxy ?? false,
    model: o.model ?? false,
    apiArgs: o.apiArgs ?? [],
    restart: "unless-stopped",
  };
  try {
    if ((o.build ?? "if-stale") === "if-stale") {
      await ensureImages({
        docker,
        projectRoot: packageRoot(),
        tag: s.tag,
        kinds: s.proxy ? ["reference", "toxiproxy"] : ["reference"],
      });
    }
    await docker.createNetwork({ Name: networkName(project), Labels: stackLabels(s) });
    if (s.model) await (await docker.createContainer(containerSpec(s, "model", {}))).start();
    const apiPort = await freeLoopbackPort();
    await (
      await docker.createContainer(containerSpec(s, "api", { [CONTAINER_PORTS.reference]: apiPort }))
    ).start();
    const url = `http://127.0.0.1:${apiPort}`;
    if (!s.proxy) return { url, proxyUrl: null, toxiproxyUrl: null };
    const [adminPort, listenPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const ports = { [CONTAINER_PORTS.toxiproxyApi]: adminPort, [API_PROXY.listenPort]: listenPort };
    await (await docker.createContainer(containerSpec(s, "toxiproxy", ports))).start();
    const toxiproxyUrl = `http://127.0.0.1:${adminPort}`;
    await populateProxies(toxiproxyUrl, [API_PROXY], 30_000);
    return { url, proxyUrl: `http://127.0.0.1:${listenPort}`, toxiproxyUrl };
  } catch (e) {
    if (e instanceof RunNotPossibleError) throw e;
    throw new RunNotPossibleError(
      `could not start the containers: ${dockerMessage(e)}`,
      "build the images first: faultline images build",
    );
  }
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
  return { url: `http://${host}:${binding.HostPort}`, proxyUrl: null, toxiproxyUrl: null };
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
