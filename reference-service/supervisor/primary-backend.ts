/**
 * The spool-IPC client (SpoolBackend, ipc/spool-client.ts) to the supervised worker: the primary ModelBackend
 * unless `--upstream` forwards to a real server (upstream-backend.ts).
 */
import type { Clock } from "../../common/clock.js";
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
  return SpoolBackend.open({
    stateDir: deps.stateDir,
    clock: deps.clock,
    heartbeatStaleMs: deps.config.health.heartbeatStaleMs,
    onCorruptFrame: (r) => deps.onFrameRejected(r.kind),
  });
}
