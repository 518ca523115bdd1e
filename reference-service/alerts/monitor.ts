/**
 * Runs the alert rules every `alerts.evaluateIntervalMs` on the service's clock: takes a
 * snapshot (breakers, worker, readiness as one health check, host CPU and memory), mirrors the result into
 * /metrics and hands firing/resolved alerts to the webhook when one is configured.
 */
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { ServiceConfig } from "../config.js";
import type { ServiceMetrics } from "../metrics/registry.js";
import { HostUsageReader, type HostUsage } from "./host-usage.js";
import { AlertEngine, type AlertNotice, type AlertSnapshot } from "./rules.js";
import { WebhookSender, webhookPayload } from "./webhook.js";

const WEBHOOK_ATTEMPTS = 3;
/** Alertmanager's `receiver` field: which receiver of the sender's config this went to. */
const RECEIVER = "faultline-reference-webhook";

export interface AlertMonitorDeps {
  readonly config: ServiceConfig["alerts"];
  readonly clock: Clock;
  readonly metrics: ServiceMetrics;
  /** The state to judge now; null while draining (a planned stop raises no alerts). */
  snapshot(): AlertSnapshot | null;
  /** The service's own base URL (externalURL, generatorURL); known once it listens. */
  externalUrl(): string;
  /** Host CPU and memory now; default: the live host (tests inject fixed readings). */
  readonly hostUsage?: () => HostUsage;
  /** Each firing/resolved notice, as it is sent to the webhook (the events WebSocket). */
  readonly onNotice?: (n: AlertNotice) => void;
}

export class AlertMonitor {
  readonly engine: AlertEngine;
  private readonly webhook: WebhookSender | null;
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly hostUsage: () => HostUsage;
  private lastHost: HostUsage | undefined;

  constructor(private readonly deps: AlertMonitorDeps) {
    const reader = new HostUsageReader();
    this.hostUsage = deps.hostUsage ?? (() => reader.read());
    this.engine = new AlertEngine(deps.config, deps.clock, { service: "faultline-reference" });
    const url = deps.config.webhookUrl;
    this.webhook =
      url === null
        ? null
        : new WebhookSender({
            url,
            timeoutMs: deps.config.webhookTimeoutMs,
            attempts: WEBHOOK_ATTEMPTS,
            clock: deps.clock,
            onResult: (status, result) => deps.metrics.alertNotifications.inc({ status, result }),
          });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Resolves once every notification so far was delivered or given up, or after `maxMs`
   * (shutdown must not wait on an unreachable receiver's retries).
   */
  async flush(maxMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.webhook) return;
    if (!Number.isFinite(maxMs)) return this.webhook.idle();
    const stop = new AbortController();
    const timeout = this.deps.clock.sleep(maxMs, stop.signal).catch(() => undefined);
    await Promise.race([this.webhook.idle(), timeout]);
    stop.abort();
  }

  /** One evaluation (the timer calls this; tests may too). */
  evaluate(): readonly AlertNotice[] {
    const service = this.deps.snapshot();
    // Read even while draining, so the next CPU reading covers one interval, not the drain.
    const host = this.readHost();
    const m = this.deps.metrics;
    if (service === null) return [];
    const notices = this.engine.evaluate(host ? { ...service, host } : service);
    const rate = this.engine.health.rate;
    if (rate !== null) m.healthCheckSuccess.set({ window: String(this.engine.health.size) }, rate);
    m.alerts.reset();
    for (const a of this.engine.alerts())
      m.alerts.set(
        { alertname: a.labels.alertname ?? "", severity: a.labels.severity ?? "", alertstate: a.state },
        1,
      );
    for (const n of notices) {
      this.webhook?.send(webhookPayload(n, this.deps.externalUrl(), RECEIVER));
      this.deps.onNotice?.(n);
    }
    return notices;
  }

  /**
   * The host's usage at the last evaluation (alerts.evaluateIntervalMs); undefined before the
   * first one or with alerts.hostRules off. The recovery ladders' system health check reads it.
   */
  get lastHostUsage(): HostUsage | undefined {
    return this.lastHost;
  }

  /** The host's usage, mirrored into /metrics; undefined with alerts.hostRules off. */
  private readHost(): HostUsage | undefined {
    if (!this.deps.config.hostRules) return undefined;
    const host = this.hostUsage();
    this.lastHost = host;
    const m = this.deps.metrics;
    if (host.cpu !== null) m.hostCpuUtilization.set({ cores: String(host.cores ?? "") }, host.cpu);
    if (host.memory !== null) m.hostMemoryUsed.set({ source: host.memorySource ?? "" }, host.memory);
    return host;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.evaluate();
      this.schedule();
    }, this.deps.config.evaluateIntervalMs);
  }
}
