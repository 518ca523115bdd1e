import type Docker from "dockerode";
import type { Clock } from "../../common/clock.js";

/** One look at a container: what `docker inspect` says about its life. */
export interface ContainerLife {
  readonly running: boolean;
  readonly restartCount: number;
  /** State.StartedAt in epoch ms (0 if never started). */
  readonly startedAtMs: number;
}

export interface RecoveryProbes {
  inspect(): Promise<ContainerLife | null>;
  /** The service's own readiness (e.g. GET /health/ready answers 2xx). */
  ready(): Promise<boolean>;
}

export interface Recovery {
  /** ms from `fromMs` until the container was seen running again (after a restart), or null. */
  readonly runningAfterMs: number | null;
  /** ms from `fromMs` until the service was also ready, or null within the timeout. */
  readonly readyAfterMs: number | null;
  readonly restarts: number;
}

export interface RecoveryOptions {
  readonly clock: Clock;
  /** When the outage began (the kill), on clock.now(). */
  readonly fromMs: number;
  /** RestartCount before the fault; recovery needs a later start (or the same container running again). */
  readonly restartCountBefore: number;
  readonly startedAtBeforeMs: number;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Restart-policy-aware recovery: polls until the container has started again (RestartCount
 * grew or StartedAt moved) and is running, then until the service answers ready. Both times
 * are measured from the outage start; granularity is the poll period.
 */
export async function waitForRecovery(probes: RecoveryProbes, o: RecoveryOptions): Promise<Recovery> {
  const poll = o.pollMs ?? 50;
  const deadline = o.fromMs + o.timeoutMs;
  let runningAt: number | null = null;
  let restarts = 0;
  while (o.clock.now() <= deadline) {
    if (runningAt === null) {
      const life = await probes.inspect();
      if (life !== null) {
        restarts = life.restartCount - o.restartCountBefore;
        const restarted = restarts > 0 || life.startedAtMs > o.startedAtBeforeMs;
        if (life.running && restarted) runningAt = o.clock.now();
      }
    }
    if (runningAt !== null && (await probes.ready())) {
      return { runningAfterMs: runningAt - o.fromMs, readyAfterMs: o.clock.now() - o.fromMs, restarts };
    }
    await o.clock.sleep(poll, o.signal);
  }
  return { runningAfterMs: runningAt === null ? null : runningAt - o.fromMs, readyAfterMs: null, restarts };
}

/** The inspect probe over a real engine. */
export function inspectProbe(docker: Docker, id: string): () => Promise<ContainerLife | null> {
  return async () => {
    try {
      const info = await docker.getContainer(id).inspect();
      const s = info.State;
      return {
        // Between a death and the restart-policy restart the engine reports Running with
        // Restarting; the container runs again only once Restarting is over.
        running: s.Running && !s.Restarting,
        restartCount: info.RestartCount,
        startedAtMs: Date.parse(s.StartedAt) || 0,
      };
    } catch {
      return null;
    }
  };
}
