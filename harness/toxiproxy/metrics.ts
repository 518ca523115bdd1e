import { Counter, Registry } from "prom-client";
import type { LinkTotals } from "./link.js";

const LABELS = ["direction", "proxy", "listener", "upstream"] as const;
type Labels = Record<(typeof LABELS)[number], string>;

/**
 * The real server's `-proxy-metrics` counters. Like it, they move only when a link ends (a
 * connection closes), never while data flows.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly received = new Counter({
    name: "toxiproxy_proxy_received_bytes_total",
    help: "Bytes read from the source of a link (counted when the link ends).",
    labelNames: LABELS,
    registers: [this.registry],
  });
  private readonly sent = new Counter({
    name: "toxiproxy_proxy_sent_bytes_total",
    help: "Bytes written to the destination of a link (counted when the link ends).",
    labelNames: LABELS,
    registers: [this.registry],
  });

  record(labels: Labels, totals: LinkTotals): void {
    this.received.inc(labels, totals.received);
    this.sent.inc(labels, totals.sent);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
