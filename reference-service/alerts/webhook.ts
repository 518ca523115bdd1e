/**
 * Alert notifications in the Prometheus Alertmanager webhook format (version "4"), so a user's
 * own Alertmanager-style receivers understand them unchanged: one POST per alert that started
 * firing or resolved, each a group of one keyed by its labels. Delivery is best effort, bounded
 * in time and attempts; a failure is counted in metrics, never thrown into the service.
 */
import type { Clock } from "../../common/clock.js";
import { alertKey, type AlertNotice } from "./rules.js";

/** Alertmanager's marker for "no end yet" (Go's zero time), sent as endsAt of a firing alert. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

export interface WebhookAlert {
  readonly status: "firing" | "resolved";
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

export interface WebhookPayload {
  readonly version: "4";
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: "firing" | "resolved";
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly commonLabels: Record<string, string>;
  readonly commonAnnotations: Record<string, string>;
  readonly externalURL: string;
  readonly alerts: readonly WebhookAlert[];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/**
 * Prometheus's label-set fingerprint: FNV-1a 64 over the labels sorted by name, each name and
 * value followed by the separator byte 0xff, as 16 hex digits (model/labelset.go Fingerprint).
 */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  let h = FNV_OFFSET;
  const feed = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  };
  const sep = Uint8Array.of(0xff);
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    feed(enc.encode(name));
    feed(sep);
    feed(enc.encode(labels[name] ?? ""));
    feed(sep);
  }
  return h.toString(16).padStart(16, "0");
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The webhook body for one notice, as Alertmanager would send a group of one alert. */
export function webhookPayload(n: AlertNotice, externalURL: string, receiver: string): WebhookPayload {
  const labels = { ...n.labels };
  const annotations = { ...n.annotations };
  return {
    version: "4",
    groupKey: `{}:${alertKey(labels)}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: { alertname: labels.alertname ?? "" },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL,
    alerts: [
      {
        status: n.status,
        labels,
        annotations,
        startsAt: iso(n.startsAtMs),
        endsAt: n.endsAtMs === null ? ZERO_TIME : iso(n.endsAtMs),
        generatorURL: `${externalURL}/v1/reliability/alerts`,
        fingerprint: fingerprint(labels),
      },
    ],
  };
}

export interface WebhookOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Attempts per notification, the first included. */
  readonly attempts: number;
  readonly clock: Clock;
  /** Counts each notification by its end: "sent" or "failed" (after every attempt). */
  readonly onResult?: (status: "firing" | "resolved", result: "sent" | "failed", detail: string) => void;
}

/**
 * Sends notifications one at a time, in order (a resolved never overtakes its firing), each
 * retried with a doubling pause on the injected clock. A full queue drops the oldest.
 */
export class WebhookSender {
  private queue: WebhookPayload[] = [];
  private running: Promise<void> | null = null;
  private static readonly MAX_QUEUE = 1000;

  constructor(private readonly opts: WebhookOptions) {}

  send(payload: WebhookPayload): void {
    this.queue.push(payload);
    while (this.queue.length > WebhookSender.MAX_QUEUE) this.queue.shift();
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Resolves once everything queued so far was sent or given up. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let p = this.queue.shift(); p; p = this.queue.shift()) await this.deliver(p);
  }

  private async deliver(p: WebhookPayload): Promise<void> {
    let detail = "";
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      try {
        const res = await fetch(this.opts.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(p),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) {
          this.opts.onResult?.(p.status, "sent", `HTTP ${res.status}`);
          return;
        }
        detail = `HTTP ${res.status}`;
      } catch (e) {
        detail = (e as Error).message;
      }
      if (attempt < this.opts.attempts) await this.opts.clock.sleep(250 * 2 ** (attempt - 1));
    }
    this.opts.onResult?.(p.status, "failed", detail);
  }
}
