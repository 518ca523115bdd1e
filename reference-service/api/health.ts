/**
 * Readiness that cannot lie: it follows the worker's heartbeat, the model states the worker
 * reports, the API's own progress watchdog (requests running and no token for T = stalled),
 * the breaker, and drain, never mere process liveness. Pure evaluation plus a bounded history
 * of status changes for /health.
 */
import type { Clock } from "../../common/clock.js";
import type { ServiceLevel } from "../contract.js";
import type { BreakerStateName } from "../policies/breaker.js";
import type { SupervisorStatus } from "../supervisor/supervisor.js";

export type HealthStatus = "ready" | "degraded" | "loading" | "draining" | "stalled" | "dead";

export interface ReadinessInputs {
  readonly draining: boolean;
  /** null when no worker is supervised (upstream mode). */
  readonly worker: SupervisorStatus | null;
  readonly heartbeatStaleMs: number;
  readonly inFlight: number;
  readonly stalledForMs: number;
  readonly progressStallMs: number;
  readonly breaker: BreakerStateName;
  readonly hasFallback: boolean;
}

export interface Readiness {
  readonly ready: boolean;
  readonly status: HealthStatus;
  readonly reason: string;
}

function workerReadiness(w: SupervisorStatus, staleMs: number): Readiness | undefined {
  if (w.state === "given-up") return { ready: false, status: "dead", reason: w.reason };
  if (w.heartbeat === null || w.lastHeartbeatMs === null)
    return { ready: false, status: "loading", reason: `no worker heartbeat yet: ${w.reason}` };
  if (w.state !== "running") return { ready: false, status: "loading", reason: w.reason };
  if (w.lastHeartbeatMs > staleMs)
    return {
      ready: false,
      status: "stalled",
      reason: `worker heartbeat is ${w.lastHeartbeatMs} ms old (limit ${staleMs})`,
    };
  if (w.heartbeat.phase !== "ready")
    return { ready: false, status: "loading", reason: `worker ${w.heartbeat.pid} is ${w.heartbeat.phase}` };
  const generators = w.heartbeat.models.filter((m) => m.device === "gpu");
  if (generators.length > 0 && generators.every((m) => m.state === "failed"))
    return {
      ready: false,
      status: "dead",
      reason: `no model is loadable: ${generators.map((m) => `${m.name} failed (${m.reason ?? "no reason"})`).join("; ")}`,
    };
  return undefined;
}

export function evaluateReadiness(i: ReadinessInputs): Readiness {
  if (i.draining) return { ready: false, status: "draining", reason: "draining: shutting down" };
  const worker = i.worker ? workerReadiness(i.worker, i.heartbeatStaleMs) : undefined;
  if (worker) return worker;
  if (i.inFlight > 0 && i.stalledForMs > i.progressStallMs)
    return {
      ready: false,
      status: "stalled",
      reason: `${i.inFlight} requests running and no token for ${i.stalledForMs} ms (limit ${i.progressStallMs})`,
    };
  if (i.breaker === "open" && !i.hasFallback)
    return { ready: false, status: "dead", reason: "circuit breaker open and no fallback configured" };
  if (i.breaker !== "closed")
    return { ready: true, status: "degraded", reason: `circuit breaker ${i.breaker}; fallbacks answer` };
  return { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" };
}

/** The level a request would most likely be served at now. */
export function currentServiceLevel(r: Readiness, fallbackLevels: readonly ServiceLevel[]): ServiceLevel {
  if (r.status === "ready") return "full";
  if (r.status === "draining") return "unavailable";
  return fallbackLevels[0] ?? "unavailable";
}

export interface HealthRecord {
  readonly at: string;
  readonly status: HealthStatus;
  readonly reason: string;
}

/** Status changes, newest last, bounded. */
export class HealthHistory {
  private readonly records: HealthRecord[] = [];
  private sinceMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly size: number,
  ) {
    this.sinceMs = clock.now();
  }

  observe(r: Readiness): void {
    const last = this.records[this.records.length - 1];
    if (last && last.status === r.status && last.reason === r.reason) return;
    if (!last || last.status !== r.status) this.sinceMs = this.clock.now();
    this.records.push({ at: new Date(this.clock.now()).toISOString(), status: r.status, reason: r.reason });
    while (this.records.length > this.size) this.records.shift();
  }

  get since(): string {
    return new Date(this.sinceMs).toISOString();
  }

  list(): readonly HealthRecord[] {
    return [...this.records];
  }
}
