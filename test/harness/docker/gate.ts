import { dockerClient } from "../../../harness/docker/client.js";
import { dockerAvailable } from "../../../harness/docker/engine.js";

/**
 * Docker tests run against a real engine. Without one they are skipped with a one-line
 * reason, except in CI (CI=true), where a missing engine must fail the run rather than pass
 * it silently.
 */
export const docker = dockerClient();
const availability = await dockerAvailable(docker);
export const dockerReason = availability.ok ? null : availability.reason;

if (dockerReason !== null) {
  if (process.env["CI"] === "true") {
    throw new Error(`CI=true but ${dockerReason}; .ci/run must start the engine (harness/docker/setup.sh)`);
  }
  process.stderr.write(`docker tests skipped: ${dockerReason}\n`);
}

export const skipWithoutDocker = dockerReason !== null;
