import { degradedGoodAt, sloLevel, type SlaReport } from "../sla/index.js";
import type { RowSource } from "../sla/source.js";
import { analyzeSource } from "../sla/stream-analyze.js";
import type { RetryLog } from "../sla/retries.js";
import type { AlertArrival } from "../sla/alerts.js";
import type { NotificationArrival } from "../sla/notifications.js";
import type { RunEvent } from "../record/schema.js";
import type { FaultWindow, MetricSample } from "../sla/faults.js";
import type { FaultOccurrence } from "../faults/scheduler.js";
import type { Scenario } from "../scenario/schema.js";

/** Fault windows as carried out: the actual inject time when known (relative to the origin), else the plan. */
export function faultWindows(occurrences: readonly FaultOccurrence[], originMs: number): FaultWindow[] {
  return occurrences
    .filter((o) => o.status !== "skipped" && o.status !== "planned")
    .map((o) => {
      const start = o.injectedAtMs === null ? o.plannedStartMs : Math.max(0, o.injectedAtMs - originMs);
      return {
        id: o.faultId,
        kind: o.kind,
        startMs: start,
        endMs:
          o.plannedEndMs === null
            ? null
            : o.revertedAtMs !== null
              ? Math.max(start, o.revertedAtMs - originMs)
              : o.plannedEndMs,
      };
    });
}

/** The SLA engine's settings as the scenario states them. */
export function analyze(
  s: Scenario,
  requests: RowSource,
  durationMs: number,
  faults: readonly FaultWindow[],
  metrics: readonly MetricSample[],
  retries: RetryLog | null = null,
  alerts: readonly AlertArrival[] = [],
  notifications: readonly NotificationArrival[] = [],
): SlaReport {
  const availability = s.slos.find((x) => x.kind === "availability");
  const budget = s.slos.find((x) => x.kind === "error-budget-burn");
  const p95 = s.slos.find((x) => x.kind === "latency" && x.percentile === 95 && x.phase === "all");
  return analyzeSource({
    source: requests,
    durationMs,
    faults,
    metricSamples: metrics,
    slos: s.slos,
    windowMs: s.analysis.window,
    threshold: s.analysis.threshold,
    // The headline level is the first availability SLO's (default full); both levels are
    // reported side by side regardless (SlaReport.levels, per-fault answer-again/full times).
    degradedCountsAsGood:
      availability?.kind === "availability" ? degradedGoodAt(sloLevel(availability)) : true,
    ...(availability?.kind === "availability" && availability.attempts
      ? { availabilityAttempts: availability.attempts }
      : {}),
    retries,
    alerts,
    notifications,
    ...(p95?.kind === "latency" ? { latencySloMs: p95.max } : {}),
    stabilityMs: s.analysis.stability,
    budgetSlo: budget?.kind === "error-budget-burn" ? budget.target : (availability?.min ?? 0.999),
    seed: s.seed,
  });
}

/** The alerts the run's receiver recorded (events of kind alert), for alert SLOs. */
export function alertArrivals(events: readonly RunEvent[]): AlertArrival[] {
  return events.flatMap((e) =>
    e.kind === "alert" && e.alert
      ? [{ tMs: e.tMs, name: e.alert.name, status: e.alert.status, message: e.message }]
      : [],
  );
}

/** Messages the run's WebSocket subscriptions received (events of kind notification). */
export function notificationArrivals(events: readonly RunEvent[]): NotificationArrival[] {
  return events.flatMap((e) =>
    e.kind === "notification" && e.notification
      ? [{ tMs: e.tMs, url: e.notification.url, field: e.notification.field, type: e.notification.type }]
      : [],
  );
}

/** The WebSockets the scenario's SLOs judge, one per distinct url and field. */
export function notificationSubscriptions(s: Scenario): { url: string; field: string }[] {
  const seen = new Map<string, { url: string; field: string }>();
  for (const slo of s.slos)
    if (slo.kind === "notification-latency") {
      const sub = { url: slo.url, field: slo.field };
      seen.set(JSON.stringify(sub), sub);
    }
  return [...seen.values()];
}
