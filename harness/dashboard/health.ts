import { request } from "undici";
import type { Clock, TimerHandle } from "../../common/clock.js";
import { BREAKER_STATE_METRIC, BREAKER_STATE_VALUE } from "../targets/protocol.js";
import { REFERENCE_METRICS } from "../targets/reference/metrics.js";
import { parseExposition } from "../runner/prometheus-text.js";
import type { BreakerState, HealthView } from "./types.js";

export const UNKNOWN_HEALTH: HealthView = {
  ready: null,
  workerUp: null,
  breakers: [],
  restarts: null,
  vramUsedBytes: null,
  vramTotalBytes: null,
};

function breakerState(v: number): BreakerState | null {
  if (v === BREAKER_STATE_VALUE.closed) return "closed";
  if (v === BREAKER_STATE_VALUE.open) return "open";
  if (v === BREAKER_STATE_VALUE.half_open) return "half-open";
  return null;
}

/** Target health from one /metrics exposition (protocol and reference metrics) and a readiness probe. */
export function healthFromMetrics(text: string | null, ready: boolean | null): HealthView {
  if (text === null) return { ...UNKNOWN_HEALTH, ready };
  const breakers: { name: string; state: BreakerState }[] = [];
  let restarts: number | null = null;
  let workerUp: boolean | null = null;
  let used: number | null = null;
  let totalBytes: number | null = null;
  for (const s of parseExposition(text)) {
    switch (s.name) {
      case BREAKER_STATE_METRIC: {
        const state = breakerState(s.value);
        if (state) breakers.push({ name: s.labels.backend ?? "?", state });
        break;
      }
      case REFERENCE_METRICS.workerRestarts:
        restarts = (restarts ?? 0) + s.value;
        break;
      case REFERENCE_METRICS.workerUp:
        workerUp = s.value === 1;
        break;
      case REFERENCE_METRICS.vramUsed:
        used = (used ?? 0) + s.value;
        break;
      case REFERENCE_METRICS.vramTotal:
        totalBytes = (totalBytes ?? 0) + s.value;
        break;
      default:
        break;
    }
  }
  breakers.sort((a, b) => a.name.localeCompare(b.name));
  return { ready, workerUp, breakers, restarts, vramUsedBytes: used, vramTotalBytes: totalBytes };
}

export interface HealthPollerOptions {
  /** Target's /metrics URL; null when it has none (the view then shows readiness only). */
  readonly metricsUrl: string | null;
  /** Readiness URL (2xx = ready); null when unknown. */
  readonly readyUrl: string | null;
  readonly clock: Clock;
  readonly periodMs?: number;
}

async function getText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return { status: res.statusCode, text: await res.body.text() };
}

/**
 * Polls readiness and /metrics on its own period (one request of each in flight at most), so the
 * dashboard reads the latest answer synchronously and never waits on the target.
 */
export class HealthPoller {
  private latest: HealthView = UNKNOWN_HEALTH;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: HealthPollerOptions) {}

  view(): HealthView {
    return this.latest;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.inFlight = this.pollOnce().finally(() => {
        if (!this.stopped) this.timer = this.opts.clock.setTimeout(tick, this.opts.periodMs ?? 1000);
      });
    };
    tick();
  }

  async pollOnce(): Promise<void> {
    const timeout = Math.min(this.opts.periodMs ?? 1000, 2000);
    const { metricsUrl, readyUrl } = this.opts;
    const [ready, metrics] = await Promise.all([
      readyUrl === null
        ? null
        : getText(readyUrl, timeout).then(
            (r) => r.status >= 200 && r.status < 300,
            () => false,
          ),
      metricsUrl === null
        ? null
        : getText(metricsUrl, timeout).then(
            (r) => (r.status === 200 ? r.text : null),
            () => null,
          ),
    ]);
    try {
      this.latest = healthFromMetrics(metrics, ready);
    } catch {
      // An exposition we cannot parse is shown as unknown health, not a crash of the dashboard.
      this.latest = { ...UNKNOWN_HEALTH, ready };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    await this.inFlight;
  }
}
