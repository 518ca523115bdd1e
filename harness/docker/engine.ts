import type Docker from "dockerode";
import { dockerClient, dockerMessage } from "./client.js";

export type DockerAvailability =
  | { readonly ok: true; readonly version: string; readonly apiVersion: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Whether a Docker engine answers, with a one-line reason when not. Tests use it to skip
 * (or, with CI=true, to fail); the CLI uses it to explain why Docker mode cannot run.
 */
export async function dockerAvailable(
  docker: Docker = dockerClient(),
  timeoutMs = 3000,
): Promise<DockerAvailability> {
  const timeout = new Promise<DockerAvailability>((resolve) => {
    const t = setTimeout(
      () => resolve({ ok: false, reason: `no answer from the Docker engine within ${timeoutMs} ms` }),
      timeoutMs,
    );
    t.unref();
  });
  const probe = (async (): Promise<DockerAvailability> => {
    try {
      await docker.ping();
      const v = await docker.version();
      return { ok: true, version: v.Version, apiVersion: v.ApiVersion };
    } catch (error) {
      return {
        ok: false,
        reason: `no Docker engine: ${dockerMessage(error)} (start one with harness/docker/setup.sh)`,
      };
    }
  })();
  return Promise.race([probe, timeout]);
}
