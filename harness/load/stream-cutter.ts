import type { Random } from "../../common/random.js";
import type { PreparedRequest } from "./templates.js";
import type { ClientDisconnectSpec } from "./types.js";

/** Which streams the client cuts short while a client-disconnect fault is on. */
export class StreamCutter {
  private spec: ClientDisconnectSpec | null = null;

  /** @param random derived from the plan's seed, so the same streams are cut on a rerun */
  constructor(private readonly random: Random) {}

  /** Cuts streams sent from now on as `spec` says; null stops. */
  set(spec: ClientDisconnectSpec | null): void {
    this.spec = spec;
  }

  /** Events after which this stream is cut by the client, or undefined to read it whole. */
  cutAfter(req: PreparedRequest): number | undefined {
    if (!req.stream || this.spec === null) return undefined;
    return this.random() < this.spec.fraction ? this.spec.afterEvents : undefined;
  }
}
