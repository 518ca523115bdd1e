import { RunNotPossibleError } from "../../../common/errors.js";
import { packageRoot } from "../../../common/package-root.js";
import type { Runtime } from "../../../common/runtime.js";
import { dockerClient } from "../../docker/client.js";
import { dockerAvailable } from "../../docker/engine.js";
import { IMAGE_KINDS, type ImageKind } from "../../docker/image-specs.js";
import { buildImages } from "../../docker/images.js";

export interface ImagesBuildOptions {
  /** Image tag (default "local", the tag docker-compose.yml and the Docker target use). */
  readonly tag?: string;
  readonly kinds?: readonly ImageKind[];
  /** The faultline package to put in the images (default: the one this module belongs to). */
  readonly projectRoot?: string;
}

/**
 * `faultline images build`: builds faultline's images from this machine's node and the
 * project, no registry needed. Progress on stderr; the result as one JSON line on stdout
 * ({"images":[{kind,ref,id,sizeBytes}],"durationMs":N}). Returns the exit code.
 */
export async function imagesBuildCommand(options: ImagesBuildOptions, rt: Runtime): Promise<number> {
  const docker = dockerClient(rt.env);
  const available = await dockerAvailable(docker);
  if (!available.ok)
    throw new RunNotPossibleError(
      available.reason,
      "run harness/docker/setup.sh as root, or set DOCKER_HOST",
    );
  const result = await buildImages({
    docker,
    projectRoot: options.projectRoot ?? packageRoot(),
    tag: options.tag ?? "local",
    kinds: options.kinds ?? IMAGE_KINDS,
    log: (line) => rt.stderr.write(`${line}\n`),
  });
  for (const i of result.images) {
    rt.stderr.write(`built ${i.ref} (${(i.sizeBytes / 1024 / 1024).toFixed(0)} MB, ${i.id.slice(7, 19)})\n`);
  }
  rt.stderr.write(`images built in ${(result.durationMs / 1000).toFixed(1)} s\n`);
  rt.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}
