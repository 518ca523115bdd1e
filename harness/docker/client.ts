import Docker from "dockerode";

/**
 * One place that makes Docker clients. dockerode reads DOCKER_HOST (and DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH) itself; without it the local socket is used, as the docker CLI does.
 */
export function dockerClient(env: Readonly<Record<string, string | undefined>> = process.env): Docker {
  const socketPath = env["FAULTLINE_DOCKER_SOCKET"];
  return socketPath ? new Docker({ socketPath }) : new Docker();
}

/** The HTTP status dockerode attaches to API errors (404 no such container, 304 already in state, ...). */
export function dockerStatus(error: unknown): number | null {
  if (typeof error === "object" && error !== null && "statusCode" in error) {
    const code = error.statusCode;
    return typeof code === "number" ? code : null;
  }
  return null;
}

/** Message of a dockerode error without the HTTP boilerplate, for user-facing text. */
export function dockerMessage(error: unknown): string {
  if (typeof error === "object" && error !== null && "json" in error) {
    const json = error.json;
    if (typeof json === "object" && json !== null && "message" in json) {
      return String(json.message).trim();
    }
  }
  return error instanceof Error ? error.message : String(error);
}
