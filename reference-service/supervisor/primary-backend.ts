/**
 * The primary ModelBackend of the API process: the spool-IPC client to the supervised worker.
 * (Forward mode to a real OpenAI-compatible upstream would be chosen here too; not done yet.)
 */
import type { Clock } from "../../common/clock.js";
import type { ModelBackend } from "../backend.js";
import { WorkerUnavailableError } from "../backend-errors.js";
import type { ServiceConfig } from "../config.js";

export interface PrimaryBackendDeps {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly config: ServiceConfig;
  /** Called for every response frame the client quarantines, with its kind. */
  readonly onFrameRejected: (kind: string) => void;
}

/** Placeholder until the spool client lands: every call fails as "worker unavailable". */
export function createPrimaryBackend(_deps: PrimaryBackendDeps): ModelBackend {
  return {
    name: "worker",
    // eslint-disable-next-line require-yield -- fails before producing anything
    async *generate() {
      await Promise.resolve();
      throw new WorkerUnavailableError("the spool client is not available in this build");
    },
  };
}
