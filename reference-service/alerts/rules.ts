/**
 * Alert rules of the reference service, evaluated on the injected clock with Prometheus's
 * semantics: a rule whose condition holds is pending, fires once it has held for the rule's
 * `for` duration, and resolves at the first evaluation where it no longer holds. Levels are
 * Prometheus's customary `severity` label (warning, critical), as write-up 003's "multi-level
 * alerting ... automatic alert creation and resolution" describes. Pure: no timers, no I/O;
 * monitor.ts drives it and webhook.ts delivers what it reports.
 */
import type { Clock } from "../../common/clock.js";
import type { HostUsage } from "./host-usage.js";

export type Severity = "warning" | "critical";

/** What one evaluation looks at (read from the running service by monitor.ts). */
export interface AlertSnapshot {
  readonly breakers: readonly { readonly name: string; readonly state: "closed" | "open" | "half_open" }[];
  /** null when no worker is supervised (upstream mode). */
  readonly worker: { readonly state: string; readonly reason: string; readonly restarts: number } | null;
  /** This evaluation's health check: would readiness answer 200 now? */
  readonly ready: boolean;
  /** Host CPU and memory usage (host-usage.ts); absent or null readings raise nothing. */
  readonly host?: HostUsage;
}

export interface AlertRulesConfig {
  readonly breakerOpenForMs: number;
  readonly healthCheckWindow: number;
  readonly healthTargetAbove: number;
  readonly healthCriticalBelow: number;
  readonly workerDownForMs: number;
  readonly cpuWarningAbove: number;
  readonly cpuCriticalAbove: number;
  readonly memoryWarningAbove: number;
  readonly memoryCriticalAbove: number;
}

/** One instance of a rule whose condition holds (a rule can hold for several label sets). */
interface Holding {
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
}

interface Rule {
  readonly name: string;
  readonly severity: Severity;
  readonly forMs: number;
  readonly summary: string;
  holds(s: AlertSnapshot, health: HealthCheckWindow): readonly Holding[];
}

/** A pending or firing alert (Prometheus's /api/v1/alerts item, times in ms). */
export interface ActiveAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: "pending" | "firing";
  readonly activeAtMs: number;
  readonly firedAtMs: number | null;
}

/** A change worth telling receivers about: an alert started firing, or resolved. */
export interface AlertNotice {
  readonly status: "firing" | "resolved";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAtMs: number;
  /** When it resolved; null while firing. */
  readonly endsAtMs: number | null;
}

/**
 * The last `size` health checks, counted from the first one that passed: a service still
 * loading at start-up has not failed a check, it has not begun serving yet.
 */
export class HealthCheckWindow {
  private readonly checks: boolean[] = [];
  private started = false;

  constructor(readonly size: number) {}

  record(ok: boolean): void {
    if (!this.started && !ok) return;
    this.started = true;
    this.checks.push(ok);
    while (this.checks.length > this.size) this.checks.shift();
  }

  get count(): number {
    return this.checks.length;
  }

  get successes(): number {
    return this.checks.filter(Boolean).length;
  }

  /** Share of checks that passed; null before the first passing one. */
  get rate(): number | null {
    return this.checks.length === 0 ? null : this.successes / this.checks.length;
  }

  /** The whole history is there: the rules judge the rate only then (001: "100 check history"). */
  get full(): boolean {
    return this.checks.length === this.size;
  }
}

const pct = (r: number): string => `${+(r * 100).toFixed(2)}%`;
const mins = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

export function alertRules(c: AlertRulesConfig): readonly Rule[] {
  const notClosed = (s: AlertSnapshot): readonly Holding[] =>
    s.breakers
      .filter((b) => b.state !== "closed")
      .map((b) => ({ labels: { backend: b.name }, description: `circuit breaker ${b.name} is ${b.state}` }));
  const healthBelow =
    (bad: (rate: number) => boolean, bound: string) =>
    (_s: AlertSnapshot, h: HealthCheckWindow): readonly Holding[] => {
      const rate = h.rate;
      if (rate === null || !h.full || !bad(rate)) return [];
      return [
        {
          labels: {},
          description: `${h.successes} of the last ${h.count} health checks passed (${pct(rate)}; ${bound})`,
        },
      ];
    };
  // The first start is not an outage: "starting" counts only once the worker has restarted.
  const workerIs = (states: readonly string[]) => (s: AlertSnapshot) =>
    s.worker && states.includes(s.worker.state) && (s.worker.state !== "starting" || s.worker.restarts > 0)
      ? [{ labels: {}, description: `worker ${s.worker.state}: ${s.worker.reason}` }]
      : [];
  return [
    {
      name: "BreakerOpen",
      severity: "warning",
      forMs: 0,
      summary: "A circuit breaker is not closed: requests are answered by fallbacks",
      holds: notClosed,
    },
    {
      name: "BreakerOpenTooLong",
      severity: "critical",
      forMs: c.breakerOpenForMs,
      summary: `A circuit breaker has not closed for ${mins(c.breakerOpenForMs)}`,
      holds: notClosed,
    },
    {
      name: "HealthCheckSuccessBelowTarget",
      severity: "warning",
      forMs: 0,
      summary: `Health check success rate is not above ${pct(c.healthTargetAbove)}`,
      holds: healthBelow((r) => r <= c.healthTargetAbove, `target above ${pct(c.healthTargetAbove)}`),
    },
    {
      name: "HealthCheckSuccessLow",
      severity: "critical",
      forMs: 0,
      summary: `Health check success rate is below ${pct(c.healthCriticalBelow)}`,
      holds: healthBelow((r) => r < c.healthCriticalBelow, `alert below ${pct(c.healthCriticalBelow)}`),
    },
    {
      name: "WorkerRestarting",
      severity: "warning",
      forMs: c.workerDownForMs,
      summary: "The model worker is down and being restarted",
      holds: workerIs(["restarting", "starting"]),
    },
    {
      name: "WorkerGivenUp",
      severity: "critical",
      forMs: 0,
      summary: "The supervisor gave up restarting the model worker",
      holds: workerIs(["given-up"]),
    },
    ...hostUsageRules(c),
  ];
}

/**
 * 002: "CPU usage thresholds (warning: 80%, critical: 95%), Memory usage thresholds (warning:
 * 80%, critical: 95%)". No `for`: the write-up gives none, and each CPU reading is already an
 * average over one evaluation interval.
 */
function hostUsageRules(c: AlertRulesConfig): readonly Rule[] {
  const usageAbove =
    (what: "cpu" | "memory", bound: number) =>
    (s: AlertSnapshot): readonly Holding[] => {
      const used = s.host?.[what] ?? null;
      return used !== null && used > bound
        ? [{ labels: {}, description: `host ${what} usage ${pct(used)} (alert above ${pct(bound)})` }]
        : [];
    };
  return [
    {
      name: "CpuUsageHigh",
      severity: "warning",
      forMs: 0,
      summary: `Host CPU usage is above ${pct(c.cpuWarningAbove)}`,
      holds: usageAbove("cpu", c.cpuWarningAbove),
    },
    {
      name: "CpuUsageCritical",
      severity: "critical",
      forMs: 0,
      summary: `Host CPU usage is above ${pct(c.cpuCriticalAbove)}`,
      holds: usageAbove("cpu", c.cpuCriticalAbove),
    },
    {
      name: "MemoryUsageHigh",
      severity: "warning",
      forMs: 0,
      summary: `Host memory usage is above ${pct(c.memoryWarningAbove)}`,
      holds: usageAbove("memory", c.memoryWarningAbove),
    },
    {
      name: "MemoryUsageCritical",
      severity: "critical",
      forMs: 0,
      summary: `Host memory usage is above ${pct(c.memoryCriticalAbove)}`,
      holds: usageAbove("memory", c.memoryCriticalAbove),
    },
  ];
}

/** Identity of an alert: its labels, sorted. */
export function alertKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const RESOLVED_KEPT = 100;

/** Evaluates the rules on each call of `evaluate` and reports what changed. */
export class AlertEngine {
  private readonly rules: readonly Rule[];
  private readonly active = new Map<string, ActiveAlert>();
  private readonly recent: AlertNotice[] = [];
  readonly health: HealthCheckWindow;

  constructor(
    config: AlertRulesConfig,
    private readonly clock: Clock,
    private readonly baseLabels: Readonly<Record<string, string>> = {},
  ) {
    this.rules = alertRules(config);
    this.health = new HealthCheckWindow(config.healthCheckWindow);
  }

  /** Takes the snapshot's health check, evaluates every rule, returns the alerts that fired or resolved. */
  evaluate(s: AlertSnapshot): AlertNotice[] {
    const now = this.clock.now();
    this.health.record(s.ready);
    const notices: AlertNotice[] = [];
    const seen = new Set<string>();
    for (const rule of this.rules)
      for (const h of rule.holds(s, this.health)) {
        const fired = this.hold(rule, h, now, seen);
        if (fired) notices.push(fired);
      }
    for (const [key, a] of this.active) {
      if (seen.has(key)) continue;
      this.active.delete(key);
      if (a.firedAtMs !== null) notices.push(this.resolve(a, a.firedAtMs, now));
    }
    return notices;
  }

  /** Marks one holding instance pending or firing; returns the notice when it starts firing. */
  private hold(rule: Rule, h: Holding, now: number, seen: Set<string>): AlertNotice | null {
    const labels = { alertname: rule.name, severity: rule.severity, ...this.baseLabels, ...h.labels };
    const annotations = { summary: rule.summary, description: h.description };
    const key = alertKey(labels);
    seen.add(key);
    const was = this.active.get(key);
    const activeAtMs = was?.activeAtMs ?? now;
    const fires = now - activeAtMs >= rule.forMs;
    const firedAtMs = was?.firedAtMs ?? (fires ? now : null);
    this.active.set(key, { labels, annotations, state: fires ? "firing" : "pending", activeAtMs, firedAtMs });
    return fires && was?.state !== "firing"
      ? { status: "firing", labels, annotations, startsAtMs: now, endsAtMs: null }
      : null;
  }

  private resolve(a: ActiveAlert, firedAtMs: number, now: number): AlertNotice {
    const resolved: AlertNotice = {
      status: "resolved",
      labels: a.labels,
      annotations: a.annotations,
      startsAtMs: firedAtMs,
      endsAtMs: now,
    };
    this.recent.push(resolved);
    while (this.recent.length > RESOLVED_KEPT) this.recent.shift();
    return resolved;
  }

  /** Pending and firing alerts, in rule order. */
  alerts(): readonly ActiveAlert[] {
    return [...this.active.values()];
  }

  /** The most recent resolved alerts, oldest first. */
  resolved(): readonly AlertNotice[] {
    return [...this.recent];
  }

  /** Every rule as configured (for the status endpoint). */
  ruleList(): readonly { name: string; severity: Severity; forMs: number; summary: string }[] {
    return this.rules.map(({ name, severity, forMs, summary }) => ({ name, severity, forMs, summary }));
  }
}
