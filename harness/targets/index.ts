import { basename } from "node:path";
import type { TargetSpec } from "../scenario/schema.js";
import { startCommand } from "./command.js";
import type { DockerRunningTarget } from "../docker/target.js";
import { startReference } from "./reference/process.js";
import type { RunningTarget, TargetContext } from "./target.js";
import { startUrl } from "./url.js";

export type { RunningTarget, TargetContext } from "./target.js";

/** One adapter per target kind, chosen here and nowhere else. */
export function startTarget(spec: TargetSpec, ctx: TargetContext): Promise<RunningTarget> {
  switch (spec.kind) {
    case "reference":
      return startReference(spec, ctx);
    case "command":
      return startCommand(spec, ctx);
    case "url":
      return startUrl(spec);
    case "docker":
      return startDocker(spec, ctx);
    default: {
      const never: never = spec;
      return never;
    }
  }
}

/**
 * The Docker adapter is loaded on demand (dockerode is not needed for other targets). Its
 * resources carry the run id as a label: the run directory's name, lowercased because compose
 * project names must be.
 */
async function startDocker(
  spec: Extract<TargetSpec, { kind: "docker" }>,
  ctx: TargetContext,
): Promise<DockerRunningTarget> {
  const { startDockerTarget } = await import("../docker/target.js");
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
