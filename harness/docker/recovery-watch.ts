import type Docker from "dockerode";
import type { Clock } from "../../common/clock.js";
import { inspectProbe, waitForRecovery, type Recovery } from "./recovery.js";

export interface RecoveryWatchOptions {
  readonly docker: Docker;
  readonly clock: Clock;
  /** The service's readiness URL (the whole service must answer again, not only the container run). */
  readonly readyUrl: string;
  readonly timeoutMs: number;
  /** One line per recovery for the run's events, at the engine time it was decided. */
  readonly report: (message: string, atMs: number) => void;
  readonly pollMs?: number;
}

/**
 * Restart-policy-aware recovery for the run record: when a container of the target dies, follows
 * it until the engine has started it again and the service answers ready, and reports both
 * times from the death. One watch per container at a time, so a crash loop is measured from its
 * first death. `stop()` ends every watch (the run is over).
 */
export function recoveryWatcher(o: RecoveryWatchOptions): {
  died(id: string, who: string, atMs: number): void;
  stop(): void;
} {
  const watching = new Set<string>();
  const abort = new AbortController();
  const ready = async (): Promise<boolean> => {
    try {
      return (await fetch(o.readyUrl, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  };
  const follow = async (id: string, who: string, diedAtMs: number): Promise<void> => {
    const inspect = inspectProbe(o.docker, id);
    // Any start after the death counts, even one before the first look. The engine counts
    // the restart at the death already, so `restarts` is the container's whole RestartCount.
    const r = await waitForRecovery(
      { inspect, ready },
      {
        clock: o.clock,
        fromMs: diedAtMs,
        restartCountBefore: 0,
        startedAtBeforeMs: diedAtMs,
        timeoutMs: o.timeoutMs,
        signal: abort.signal,
        ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
      },
    );
    o.report(describeRecovery(who, r, o.timeoutMs), o.clock.now());
  };
  return {
    died(id, who, atMs) {
      if (watching.has(id) || abort.signal.aborted) return;
      watching.add(id);
      follow(id, who, atMs)
        .catch(() => undefined) // aborted at the end of the run: nothing to report
        .finally(() => watching.delete(id));
    },
    stop: () => abort.abort(),
  };
}

export function describeRecovery(who: string, r: Recovery, timeoutMs: number): string {
  const restarts = `restart count ${r.restarts}`;
  if (r.readyAfterMs !== null)
    return `container ${who}: recovered: running again ${r.runningAfterMs ?? "?"} ms and ready ${r.readyAfterMs} ms after it died (${restarts})`;
  if (r.runningAfterMs !== null)
    return `container ${who}: running again ${r.runningAfterMs} ms after it died, but not ready within ${timeoutMs / 1000} s (${restarts})`;
  return `container ${who}: not running again within ${timeoutMs / 1000} s of dying (${restarts})`;
}
