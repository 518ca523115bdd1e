/**
 * GET /v1/reliability/events, upgraded to a WebSocket: the service's reliability changes pushed
 * as JSON text messages as they happen (write-up 002: "WebSocket Notifications: Real-time
 * health status updates via WebSocket", "... inform users about mock mode activation", "...
 * for recovery events"). The hub does not judge anything itself: it relays what the breaker,
 * the pipeline's fallback observer, the supervisor and the alert monitor already report, and
 * reads readiness (probes.ts) on the clock for health status changes.
 *
 * Every message is `{ type, seq, time, ...fields }`; `seq` counts up by one per message of this
 * process, so a client sees a gap if it missed any. The first message on a connection is a
 * `snapshot` of the current state. Types:
 *   health.changed     status (ready|degraded|loading|stalled|dead|draining), previous, ready, reason, serviceLevel
 *   breaker.open | breaker.half_open | breaker.closed   name, from, to
 *   fallback.activated a fallback answered while the service was on its primary ("mock mode"): level, backend, reason
 *   fallback.ended     no fallback answered for one check interval and the service is back to full
 *   worker.restarting  cause, delayMs;  worker.ready  pid;  worker.given-up  reason
 *   alert.firing | alert.resolved   name, severity, description
 *
 * Bounded: at most `maxClients` subscribers (one more is refused with 503 before the upgrade),
 * and a subscriber with more than `maxBufferedBytes` unsent is closed with 1013 (try again
 * later) instead of growing the service's memory. Drain closes every socket with 1001.
 * Reading is open like the other GET /v1/reliability endpoints (nothing here changes state).
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { AlertNotice } from "../alerts/rules.js";
import type { ServiceConfig } from "../config.js";
import type { ServiceLevel } from "../contract.js";
import type { BreakerStateName } from "../policies/breaker.js";
import type { HealthStatus } from "./health.js";

export const EVENTS_PATH = "/v1/reliability/events";
/** Close codes (RFC 6455 §7.4.1; 1013 is IANA's "Try Again Later"). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_SLOW = 1013;
/** After a close frame, how long a peer gets to answer before the socket is cut. */
const CLOSE_GRACE_MS = 1000;

/** What the health watcher reads each interval. */
export interface HealthView {
  readonly status: HealthStatus;
  readonly ready: boolean;
  readonly reason: string;
  readonly serviceLevel: ServiceLevel;
}

/** The state a new subscriber is told first. */
export interface EventsSnapshotSource {
  health(): HealthView;
  breakers(): readonly { readonly name: string; readonly state: BreakerStateName }[];
  worker(): { readonly state: string; readonly pid: number | null; readonly restarts: number } | null;
  firingAlerts(): readonly string[];
}

type Listener = (text: string) => void;

/** The relay: sources call its methods, subscribers get each change once, in order. */
export class ReliabilityEvents {
  private readonly listeners = new Set<Listener>();
  private seq = 0;
  private lastHealth: HealthStatus | null = null;
  private fallbackActive = false;
  private fallbackSinceCheck = false;
  private timer: TimerHandle | undefined;
  private source: EventsSnapshotSource | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly checkIntervalMs: number,
  ) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Starts reading health every checkIntervalMs; the first read sets the baseline (no message). */
  start(source: EventsSnapshotSource): void {
    this.source = source;
    this.lastHealth = source.health().status;
    this.schedule();
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.source = null;
  }

  /** One health check (the timer calls this; tests may too). */
  check(): void {
    if (!this.source) return;
    const h = this.source.health();
    if (h.status !== this.lastHealth) {
      this.emit("health.changed", { ...h, previous: this.lastHealth });
      this.lastHealth = h.status;
    }
    // Mock mode ends once a whole interval went by without a fallback answer at full service.
    if (this.fallbackActive && !this.fallbackSinceCheck && h.serviceLevel === "full") {
      this.fallbackActive = false;
      this.emit("fallback.ended", {});
    }
    this.fallbackSinceCheck = false;
  }

  snapshot(): Record<string, unknown> {
    const s = this.source;
    return {
      type: "snapshot",
      seq: this.seq,
      time: new Date(this.clock.now()).toISOString(),
      health: s?.health() ?? null,
      breakers: s?.breakers() ?? [],
      worker: s?.worker() ?? null,
      fallback: { active: this.fallbackActive },
      firingAlerts: s?.firingAlerts() ?? [],
    };
  }

  breakerTransition(name: string, from: BreakerStateName, to: BreakerStateName): void {
    this.emit(`breaker.${to}`, { name, from, to });
  }

  /** The pipeline's fallback observer: `to` is the fallback backend that answered, or "none". */
  fallbackServed(level: string | null, backend: string, reason: string): void {
    if (backend === "none") return;
    this.fallbackSinceCheck = true;
    if (this.fallbackActive) return;
    this.fallbackActive = true;
    this.emit("fallback.activated", { level, backend, reason });
  }

  workerRestarting(cause: string, delayMs: number): void {
    this.emit("worker.restarting", { cause, delayMs });
  }

  workerReady(pid: number): void {
    this.emit("worker.ready", { pid });
  }

  /** A model download's attempt failed, the download succeeded, or it gave up (from the heartbeat). */
  modelDownload(model: string, outcome: string, count: number): void {
    this.emit("model.download", { model, outcome, count });
  }

  workerGivenUp(reason: string): void {
    this.emit("worker.given-up", { reason });
  }

  alert(n: AlertNotice): void {
    this.emit(`alert.${n.status}`, {
      name: n.labels.alertname ?? "",
      severity: n.labels.severity ?? null,
      description: n.annotations.description ?? n.annotations.summary ?? "",
    });
  }

  private emit(type: string, fields: Record<string, unknown>): void {
    this.seq++;
    const text = JSON.stringify({
      type,
      seq: this.seq,
      time: new Date(this.clock.now()).toISOString(),
      ...fields,
    });
    for (const fn of this.listeners) fn(text);
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.check();
      if (this.source) this.schedule();
    }, this.checkIntervalMs);
  }
}

export interface EventSocket {
  readonly clients: number;
  /** Closes every subscriber with 1001 and refuses new ones; resolves when all are gone. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: string, message: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const body = `${JSON.stringify({ error: { message, type: "invalid_request_error" } })}`;
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

/** Serves the hub at EVENTS_PATH on the API's HTTP server (upgrade requests only). */
export function attachEventSocket(
  server: Server,
  hub: ReliabilityEvents,
  bounds: ServiceConfig["events"],
  clock: Clock,
  draining: () => boolean,
): EventSocket {
  // Subscribers send nothing; a tiny maxPayload stops a client from making us buffer its input.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  let closing = false;
  const cut = (ws: WebSocket): void => {
    clock.setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== EVENTS_PATH)
      return refuse(socket, "404 Not Found", `no WebSocket at ${path}; use ${EVENTS_PATH}`);
    if (closing || draining()) return refuse(socket, "503 Service Unavailable", "draining: shutting down");
    if (wss.clients.size >= bounds.maxClients)
      return refuse(
        socket,
        "503 Service Unavailable",
        `${bounds.maxClients} subscribers already (events.maxClients)`,
        { "retry-after": "5" },
      );
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify(hub.snapshot()));
      let dropped = false;
      const unsubscribe = hub.subscribe((text) => {
        if (dropped) return;
        if (ws.bufferedAmount > bounds.maxBufferedBytes) {
          dropped = true;
          unsubscribe();
          ws.close(CLOSE_TOO_SLOW, "too slow: events.maxBufferedBytes unsent");
          cut(ws);
          return;
        }
        ws.send(text);
      });
      ws.on("close", unsubscribe);
      ws.on("error", () => ws.terminate());
    });
  };
  server.on("upgrade", onUpgrade);
  return {
    get clients() {
      return wss.clients.size;
    },
    close() {
      closing = true;
      server.off("upgrade", onUpgrade);
      const gone = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once("close", () => resolve());
            ws.close(CLOSE_GOING_AWAY, "the service is shutting down");
            cut(ws);
          }),
      );
      return Promise.all(gone).then(
        () =>
          new Promise<void>((resolve) => {
            wss.close(() => resolve());
          }),
      );
    },
  };
}
