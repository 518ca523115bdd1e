import { emptyCounts } from "../../common/outcome.js";
import type { FaultOccurrence } from "../faults/scheduler.js";
import type { LoadHandle, LoadPlan } from "../load/index.js";
import type { SloSpec } from "../sla/index.js";
import { UNKNOWN_HEALTH } from "./health.js";
import { liveFaultTimes, uptimeView, type LiveFaultTimes } from "./levels.js";
import { LiveTracker } from "./live-tracker.js";
import { budgetOf, sloStanding } from "./standing.js";
import type { DashboardFrame, DashboardSource, FaultRow, HealthView } from "./types.js";

/** The parts of a FaultScheduler the dashboard reads (FaultScheduler satisfies it). */
export interface TimelineReader {
  occurrences(): readonly FaultOccurrence[];
  now(): number;
  readonly paused: boolean;
}

export interface SourceParts {
  readonly title: string;
  readonly load: Pick<LoadHandle, "snapshot">;
  readonly plan: Pick<LoadPlan, "segments">;
  /** Planned length of the run (ms); null for a game day with no planned end. */
  readonly plannedMs: number | null;
  readonly scheduler: TimelineReader | null;
  readonly slos: readonly SloSpec[];
  /** Latest target health (e.g. HealthPoller.view); must not block. */
  readonly health?: () => HealthView;
}

/** The plan's rate (requests/s) at `tMs`; 0 outside it. */
export function plannedRateAt(plan: Pick<LoadPlan, "segments">, tMs: number): number {
  const seg = plan.segments.find((s) => tMs >= s.startMs && tMs < s.endMs);
  if (seg === undefined) return 0;
  const span = seg.endMs - seg.startMs;
  return span > 0 ? seg.r0 + ((seg.r1 - seg.r0) * (tMs - seg.startMs)) / span : seg.r1;
}

export function faultRow(o: FaultOccurrence): FaultRow {
  return {
    id: o.faultId,
    kind: o.kind,
    target: o.target,
    description: o.description,
    status: o.status,
    startMs: o.plannedStartMs,
    endMs: o.plannedEndMs,
    manual: o.manual,
  };
}

/** The latest fault that finished (done or reverted), with its times from whole seconds. */
function lastFinished(
  occurrences: readonly FaultOccurrence[],
  seconds: Parameters<typeof liveFaultTimes>[0],
): LiveFaultTimes | null {
  const past = occurrences.filter((o) => o.status === "done" || o.status === "reverted");
  const last = past[past.length - 1];
  if (last === undefined) return null;
  return liveFaultTimes(seconds, {
    id: last.faultId,
    startMs: last.plannedStartMs,
    endMs: last.plannedEndMs,
  });
}

/** Uptime at both levels and the latest finished fault's times, from whole seconds. */
function levelsOf(
  parts: SourceParts,
  uptimeSpec: { readonly window?: number; readonly threshold?: number } | undefined,
  seconds: Parameters<typeof liveFaultTimes>[0],
): Pick<DashboardFrame, "uptime" | "lastFault"> {
  return {
    uptime: uptimeView(seconds, uptimeSpec?.window ?? 1000, uptimeSpec?.threshold ?? 0.99),
    lastFault: lastFinished(parts.scheduler?.occurrences() ?? [], seconds),
  };
}

/**
 * Builds the dashboard's source from the live run objects: the load handle's snapshot, the
 * fault scheduler's occurrences and the latest health. Each read() is synchronous and cheap
 * (one snapshot: a sort of at most 1,024 numbers), so the load loop never waits on it.
 */
export function dashboardSourceFrom(parts: SourceParts): DashboardSource {
  const tracker = new LiveTracker();
  const found = parts.slos.find((s) => s.kind === "uptime");
  const uptimeSpec = found?.kind === "uptime" ? found : undefined;
  return {
    read(): DashboardFrame {
      const snap = parts.load.snapshot();
      tracker.observe(snap);
      const lat = snap.recentLatency;
      const facts = { totals: snap.totals, recentLatency: lat, seconds: tracker.seconds };
      return {
        title: parts.title,
        elapsedMs: snap.elapsedMs,
        plannedMs: parts.plannedMs,
        rate: {
          target: plannedRateAt(parts.plan, snap.elapsedMs) * snap.rateMultiplier,
          achieved: tracker.achievedRate(),
          multiplier: snap.rateMultiplier,
          inFlight: snap.inFlight,
        },
        perSecond: tracker.lastWhole()?.counts ?? emptyCounts(),
        latency: { p50: lat.p50, p95: lat.p95, p99: lat.p99, history: [...tracker.p99History()] },
        budget: budgetOf(parts.slos, snap.totals),
        ...levelsOf(parts, uptimeSpec, tracker.seconds),
        slos: parts.slos.map((s, i) => sloStanding(s, i, facts)),
        timeline: {
          paused: parts.scheduler?.paused ?? false,
          nowMs: parts.scheduler?.now() ?? snap.elapsedMs,
          faults: (parts.scheduler?.occurrences() ?? []).map(faultRow),
        },
        health: parts.health?.() ?? UNKNOWN_HEALTH,
      };
    },
  };
}
