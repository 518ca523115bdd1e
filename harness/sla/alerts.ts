/**
 * Alert SLOs: judged from the alerts a target sent to the run's receiver (run events of kind
 * alert), against each fault's start and its recovery to full service.
 */
import type { FaultAnalysis, FaultWindow } from "./faults.js";
import { judge, type SloVerdict } from "./verdict.js";

/** One received alert notification (a state change), at run time tMs. */
export interface AlertArrival {
  readonly tMs: number;
  readonly name: string;
  readonly status: "firing" | "resolved";
  /** The event's text (the alert's description: what it measured). */
  readonly message: string;
}

export interface AlertSloSpec {
  readonly kind: "alert";
  readonly alert?: string;
  readonly fires?: boolean;
  readonly within?: number;
  readonly resolvesWithin?: number;
  readonly fault?: string;
}

/** A fault as the alert SLO needs it: where it started and when full service came back. */
interface Judged {
  readonly id: string;
  readonly startMs: number;
  readonly fullServicePointMs: number | null;
}

function judgedFaults(windows: readonly FaultWindow[], analyses: readonly FaultAnalysis[]): Judged[] {
  return windows.map((w, i) => ({
    id: w.id,
    startMs: w.startMs,
    fullServicePointMs: analyses[i]?.fullServicePointMs ?? null,
  }));
}

function neverFired(spec: AlertSloSpec, id: string, alerts: readonly AlertArrival[]): SloVerdict {
  const fired = alerts.filter(
    (a) => a.status === "firing" && (spec.alert === undefined || a.name === spec.alert),
  );
  const what = spec.alert === undefined ? "no alert fired" : `alert ${spec.alert} never fired`;
  // The first firing of each name, with what it measured: the shortfall in the alert's words.
  const firsts = [...new Map(fired.map((a) => [a.name, a] as const)).values()].map((a) => a.message);
  return judge(
    {
      id,
      description: `${what}${firsts.length > 0 ? ` (fired: ${firsts.join("; ")})` : ""}`,
      metric: "alerts.fired",
      comparator: "<=",
      bound: 0,
      unit: "count",
    },
    fired.length,
  );
}

function faultAlertVerdicts(
  spec: AlertSloSpec & { alert: string; within: number },
  id: string,
  f: Judged,
  alerts: readonly AlertArrival[],
): SloVerdict[] {
  const name = spec.alert;
  // An alert already firing when the fault starts (its last notice before the start says so)
  // has paged at the start: delay 0. Judging only firings after the start would call an alert
  // that was right all along a miss (a busy host above the CPU threshold before a burn).
  const before = alerts.filter((a) => a.name === name && a.tMs < f.startMs).at(-1);
  const alreadyFiring = before?.status === "firing";
  const firing = alreadyFiring
    ? before
    : alerts.find((a) => a.name === name && a.status === "firing" && a.tMs >= f.startMs);
  const note =
    firing === undefined ? " (it did not fire)" : alreadyFiring ? " (already firing when it started)" : "";
  const fired = judge(
    {
      id: spec.resolvesWithin === undefined ? id : `${id}/fired`,
      description: `alert ${name} fired <= ${spec.within} ms after ${f.id} started${note}`,
      metric: "alert.firedAfterMs",
      comparator: "<=",
      bound: spec.within,
      unit: "ms",
      faultId: f.id,
    },
    firing ? Math.max(0, firing.tMs - f.startMs) : null,
  );
  if (spec.resolvesWithin === undefined) return [fired];
  const resolved = firing
    ? alerts.find((a) => a.name === name && a.status === "resolved" && a.tMs >= firing.tMs)
    : undefined;
  const back = f.fullServicePointMs;
  const why =
    firing === undefined
      ? " (it did not fire)"
      : resolved === undefined
        ? " (it did not resolve before the run ended)"
        : back === null
          ? " (the service never came back to full service)"
          : "";
  return [
    fired,
    judge(
      {
        id: `${id}/resolved`,
        description: `alert ${name} resolved <= ${spec.resolvesWithin} ms after ${f.id}'s recovery to full service${why}`,
        metric: "alert.resolvedAfterRecoveryMs",
        comparator: "<=",
        bound: spec.resolvesWithin,
        unit: "ms",
        faultId: f.id,
      },
      resolved && back !== null ? resolved.tMs - back : null,
    ),
  ];
}

export function alertVerdicts(
  spec: AlertSloSpec,
  id: string,
  windows: readonly FaultWindow[],
  analyses: readonly FaultAnalysis[],
  alerts: readonly AlertArrival[],
): SloVerdict[] {
  if (spec.fires === false || spec.alert === undefined || spec.within === undefined)
    return [neverFired(spec, id, alerts)];
  const all = judgedFaults(windows, analyses);
  const chosen = spec.fault === undefined ? all : all.filter((f) => f.id === spec.fault);
  const named = { ...spec, alert: spec.alert, within: spec.within };
  if (chosen.length === 0)
    return [
      judge(
        {
          id,
          description: `alert ${spec.alert} fired <= ${spec.within} ms: no such fault ${spec.fault ?? "in this run"}`,
          metric: "alert.firedAfterMs",
          comparator: "<=",
          bound: spec.within,
          unit: "ms",
        },
        null,
      ),
    ];
  return chosen.flatMap((f) =>
    faultAlertVerdicts(named, chosen.length > 1 ? `${id}/${f.id}` : id, f, alerts),
  );
}
