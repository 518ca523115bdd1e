import type { Clock } from "../../common/clock.js";
import type { TargetHandles } from "../faults/injector.js";
import type { StartedJournal } from "../faults/started.js";
import type { RunEvent } from "../record/schema.js";

/**
 * A target adapter (DESIGN: "targets are adapters"): the runner only knows this interface, never
 * which kind of target it drives. `start` resolves once the target answers (or throws
 * RunNotPossibleError); `stop` is idempotent and leaves no process behind.
 */
export interface RunningTarget {
  readonly kind: "reference" | "command" | "url" | "docker";
  readonly description: string;
  /** Where the service answers directly (the runner may put a proxy in front). */
  readonly url: string;
  /** Parts injectors can act on (processes, state dir, GPU); the runner adds the Toxiproxy links. */
  readonly handles: TargetHandles;
  stop(): Promise<void>;
}

export interface TargetContext {
  readonly clock: Clock;
  /** Run directory: target logs go here. */
  readonly runDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Wall-clock origin of the run's times, for event timestamps (0 before the load starts). */
  readonly originMs: () => number;
  readonly onEvent: (e: RunEvent) => void;
  /** The run's alert receiver (scenario `alerts`), for targets that can send alerts to it. */
  readonly alertWebhookUrl?: string;
  /** Puts a Toxiproxy link named `name` in front of `upstreamUrl`; returns the URL to use instead. */
  readonly link: (name: string, upstreamUrl: string) => Promise<string>;
  /**
   * Where the target records what it starts (processes, containers), so `faultline cleanup`
   * can stop them after the harness was killed; absent: nothing is recorded (tests, embedding).
   */
  readonly started?: StartedJournal;
}
