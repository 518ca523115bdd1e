/**
 * The primary ModelBackend of the API process: the spool-IPC client (A1's SpoolBackend) to the
 * supervised worker. Forward mode to a real OpenAI-compatible upstream is not built yet.
 */
import type { Clock } from "../../common/clock.js";
import { InvalidInputError } from "../../common/errors.js";
import type { ServiceConfig } from "../config.js";
import { SpoolBackend } from "../ipc/spool-client.js";

export interface PrimaryBackendDeps {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly config: ServiceConfig;
  /** Called for every response frame the client quarantines or loses, with its kind. */
  readonly onFrameRejected: (kind: string) => void;
}

export async function openPrimaryBackend(deps: PrimaryBackendDeps): Promise<SpoolBackend> {
  if (deps.config.upstream !== null)
    throw new InvalidInputError(
      [{ path: "upstream", message: "forwarding to an upstream server is not implemented yet" }],
      "omit --upstream to use the simulated worker",
    );
  return SpoolBackend.open({
    stateDir: deps.stateDir,
    clock: deps.clock,
    heartbeatStaleMs: deps.config.health.heartbeatStaleMs,
    onCorruptFrame: (r) => deps.onFrameRejected(r.kind),
  });
}
