import { basename } from "node:path";
import type { RawIssue } from "../scenario/semantic.js";
import type { TargetSpec } from "../scenario/schema.js";
import type { TargetKind } from "../targets/kind.js";
import type { TargetContext } from "../targets/target.js";
import type { DockerRunningTarget } from "./target.js";

type DockerSpec = Extract<TargetSpec, { kind: "docker" }>;

/**
 * The Docker adapter is loaded on demand (dockerode is not needed for other targets). Its
 * resources carry the run id as a label: the run directory's name, lowercased because compose
 * project names must be.
 */
async function startDocker(spec: DockerSpec, ctx: TargetContext): Promise<DockerRunningTarget> {
  const { startDockerTarget } = await import("./target.js");
  const runId = basename(ctx.runDir).toLowerCase();
  const target = await startDockerTarget(
    {
      mode: spec.mode,
      runId,
      ...(spec.project === undefined ? {} : { project: spec.project }),
      tag: spec.tag,
      build: spec.build,
      proxy: spec.proxy,
      model: spec.model,
      replicas: spec.replicas,
      apiArgs: spec.apiArgs,
      service: spec.service,
      ...(spec.port === undefined ? {} : { port: spec.port }),
      readyPath: spec.readyPath,
      keep: spec.keep,
      startTimeoutMs: spec.startTimeout,
    },
    ctx,
  );
  // With the stack's toxiproxy, clients go through it, so faults on the proxy container
  // (pause, network disconnect) sit on the client path as they would in the compose stack.
  return target.proxyUrl === null ? target : { ...target, url: target.proxyUrl };
}

/**
 * Compose services a Docker target offers to container faults. With replicas, each API
 * container by number (`api#1`, ...) and HAProxy (`lb`); a container fault hits one container.
 */
function dockerServices(target: DockerSpec): readonly string[] {
  if (target.mode === "attach") return target.services ?? [target.service];
  const api =
    target.replicas > 1
      ? [...Array.from({ length: target.replicas }, (_, i) => `api#${i + 1}`), "lb"]
      : ["api"];
  return [...api, ...(target.proxy ? ["toxiproxy"] : []), ...(target.model ? ["model"] : [])];
}

function checkDockerTarget(t: DockerSpec): RawIssue[] {
  const issues: RawIssue[] = [];
  if (t.mode === "attach" && t.project === undefined)
    issues.push({
      path: ["target", "project"],
      message: "missing required field (the compose project to attach to)",
      hint: "add project: <name> (`docker compose ls` lists them)",
    });
  const startOnly = (["apiArgs", "proxy", "model", "keep", "replicas"] as const).filter((k) =>
    k === "apiArgs" ? t.apiArgs.length > 0 : k === "replicas" ? t.replicas > 1 : t[k],
  );
  if (t.mode === "attach")
    for (const k of startOnly)
      issues.push({
        path: ["target", k],
        message: "only applies when faultline starts the containers (mode: start)",
        hint: `remove ${k}, or use mode: start`,
      });
  if (t.mode === "start" && t.replicas > 1 && t.proxy)
    issues.push({
      path: ["target", "proxy"],
      message: "the toxiproxy container cannot sit in front of replicas yet (HAProxy is the front)",
      hint: "remove proxy, or use replicas: 1",
    });
  if (t.mode === "start" && t.services !== undefined)
    issues.push({
      path: ["target", "services"],
      message:
        "only applies to mode: attach (faultline's own stack offers api, toxiproxy, model, and api#N and lb with replicas)",
      hint: "remove services",
    });
  return issues;
}

/** Containers (`kind: docker`): faultline's own image stack (mode: start) or a compose project (attach). */
export const dockerKind: TargetKind<DockerSpec> = {
  start: startDocker,
  faultTargets: (t) => [...dockerServices(t).map((name) => `container:${name}`), "load", "link:client-api"],
  check: checkDockerTarget,
  // mode: start runs faultline's own image, the reference service with its built-in catalogue.
  referenceOptions: (t) => (t.mode === "start" ? {} : null),
  servesMetrics: (t) => t.mode === "start",
  dashboardHealth: () => false,
  k6BaseUrl: () => "http://127.0.0.1:8080",
};
