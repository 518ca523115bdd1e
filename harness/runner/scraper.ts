import { request } from "undici";
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { RunEvent } from "../record/schema.js";
import { parseExposition, toSeries } from "./prometheus-text.js";

export interface MetricSnapshot {
  /** ms since the run's time origin. */
  readonly tMs: number;
  readonly values: Readonly<Record<string, number>>;
}

export type FetchText = (url: string, timeoutMs: number) => Promise<string>;

export const fetchText: FetchText = async (url, timeoutMs) => {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`HTTP ${res.statusCode}`);
  }
  return res.body.text();
};

/** Which series the record keeps: the service's own and vLLM-named ones (not process_* noise). */
const KEEP = (key: string): boolean => key.startsWith("faultline_") || key.startsWith("vllm:");

/**
 * Scrapes the target's /metrics on its own period, never blocking the load loop (STYLE habit 9).
 * A failed scrape (target down during a crash) is a gap, noted once per outage, not an error.
 */
export class MetricsScraper {
  private readonly samples: MetricSnapshot[] = [];
  private timer: TimerHandle | undefined;
  private stopped = false;
  private failing = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      readonly url: string;
      readonly intervalMs: number;
      readonly clock: Clock;
      /** Wall-clock time (epoch ms) of the run's time origin. */
      readonly originMs: () => number;
      readonly fetch?: FetchText;
      readonly onEvent?: (e: RunEvent) => void;
    },
  ) {}

  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.inFlight = this.scrapeOnce();
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.opts.intervalMs);
  }

  async scrapeOnce(): Promise<void> {
    const t = this.opts.clock.now() - this.opts.originMs();
    try {
      const text = await (this.opts.fetch ?? fetchText)(this.opts.url, Math.min(this.opts.intervalMs, 2000));
      const all = toSeries(parseExposition(text));
      const values = Object.fromEntries(Object.entries(all).filter(([k]) => KEEP(k)));
      this.samples.push({ tMs: t, values });
      if (this.failing) this.opts.onEvent?.({ tMs: t, kind: "note", message: "metrics scrape recovered" });
      this.failing = false;
    } catch (e) {
      if (!this.failing) {
        this.opts.onEvent?.({
          tMs: t,
          kind: "note",
          message: `metrics scrape failed: ${(e as Error).message}`,
        });
      }
      this.failing = true;
    }
  }

  async stop(): Promise<readonly MetricSnapshot[]> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    await this.inFlight;
    return this.samples;
  }
}
