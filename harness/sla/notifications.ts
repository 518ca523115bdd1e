/**
 * Notification SLOs: judged from the messages a target pushed on a WebSocket the run subscribed
 * to (run events of kind notification), against each fault's start. Pure: the arrivals carry
 * run times taken on the run's clock by the subscriber (harness/notifications/subscriber.ts).
 */
import type { FaultWindow } from "./faults.js";
import { judge, type SloVerdict } from "./verdict.js";

/** One message received on a subscribed WebSocket, at run time tMs. */
export interface NotificationArrival {
  readonly tMs: number;
  /** The URL as the scenario gives it (a path on the target, or ws://...). */
  readonly url: string;
  /** The JSON field the type was read from. */
  readonly field: string;
  /** The message's type (its `field`, default `type`); null when it had none. */
  readonly type: string | null;
}

export interface NotificationSloSpec {
  readonly url: string;
  readonly event: string;
  readonly max: number;
  readonly fault?: string;
}

/**
 * Per fault: the time from the fault's injection to the first `event` message on `url` at or
 * after it; a fault with no such message before the run ended misses (no number).
 */
export function notificationVerdicts(
  spec: NotificationSloSpec,
  id: string,
  windows: readonly FaultWindow[],
  arrivals: readonly NotificationArrival[],
): SloVerdict[] {
  const chosen = spec.fault === undefined ? windows : windows.filter((w) => w.id === spec.fault);
  const base = {
    metric: "notification.afterMs",
    comparator: "<=" as const,
    bound: spec.max,
    unit: "ms" as const,
  };
  if (chosen.length === 0)
    return [
      judge(
        {
          ...base,
          id,
          description: `${spec.event} notified <= ${spec.max} ms: no such fault ${spec.fault ?? "in this run"}`,
        },
        null,
      ),
    ];
  const matching = arrivals.filter((a) => a.url === spec.url && a.type === spec.event);
  return chosen.map((w) => {
    const first = matching.find((a) => a.tMs >= w.startMs);
    return judge(
      {
        ...base,
        id: chosen.length > 1 ? `${id}/${w.id}` : id,
        description: `${spec.event} notified on ${spec.url} <= ${spec.max} ms after ${w.id} started${first === undefined ? " (none arrived)" : ""}`,
        faultId: w.id,
      },
      first === undefined ? null : first.tMs - w.startMs,
    );
  });
}
