/**
 * WebSocket subscriptions held for a run whose SLOs judge push notifications
 * (notification-latency). Each JSON text message becomes a run event of kind notification with
 * its type (the value of the scenario's `field`) and its arrival time on the run's clock. A
 * lost connection is reopened every `retryMs` until the run stops (a restarted target serves
 * its socket again), and each loss is a note in the record: a notification the target sent
 * while nobody was connected is missing for a reason the record shows.
 */
import WebSocket from "ws";
import type { Clock, TimerHandle } from "../../common/clock.js";
import type { RunEvent } from "../record/schema.js";

export interface Subscription {
  readonly url: string;
  readonly field: string;
}

export interface SubscriberOptions {
  /** The target's base URL (http://host:port) that a path is resolved against. */
  readonly targetUrl: string;
  readonly clock: Clock;
  /** Wall-clock origin of the run (0 before the load starts: events then carry tMs 0). */
  readonly originMs: () => number;
  readonly onEvent: (e: RunEvent) => void;
  /** Between reconnect attempts. Default 250 ms. */
  readonly retryMs?: number;
  /** Messages recorded per subscription; later ones are counted in one note. Default 10000. */
  readonly maxMessages?: number;
}

export interface Subscribers {
  /** Resolves once every subscription has opened or failed its first attempt. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

/** A path on the target as a ws:// (or wss://) URL; a full ws URL as given. */
export function socketUrl(url: string, targetUrl: string): string {
  if (/^wss?:\/\//.test(url)) return url;
  const base = new URL(targetUrl);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return new URL(url, base).toString();
}

/** The message's type: the named field of a JSON object, when a string; else null. */
export function messageType(text: string, field: string): string | null {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
    const t = (v as Record<string, unknown>)[field];
    return typeof t === "string" ? t : null;
  } catch {
    return null;
  }
}

export function startSubscribers(subs: readonly Subscription[], opts: SubscriberOptions): Subscribers {
  const retryMs = opts.retryMs ?? 250;
  const maxMessages = opts.maxMessages ?? 10_000;
  const tMs = (): number => {
    const origin = opts.originMs();
    return origin === 0 ? 0 : Math.max(0, opts.clock.now() - origin);
  };
  const note = (message: string): void => opts.onEvent({ tMs: tMs(), kind: "note", message });
  let stopped = false;
  const sockets = new Set<WebSocket>();
  const timers = new Set<TimerHandle>();

  const hold = (sub: Subscription, firstAttempt: () => void): void => {
    const url = socketUrl(sub.url, opts.targetUrl);
    let received = 0;
    let connected = false;
    const open = (): void => {
      if (stopped) return;
      const ws = new WebSocket(url, { handshakeTimeout: 5000 });
      sockets.add(ws);
      ws.on("open", () => {
        connected = true;
        firstAttempt();
        note(`subscribed to ${url} for notifications`);
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        received++;
        if (received > maxMessages) {
          if (received === maxMessages + 1)
            note(`${url}: over ${maxMessages} notifications, later ones not recorded`);
          return;
        }
        const type = messageType(data.toString("utf8"), sub.field);
        opts.onEvent({
          tMs: tMs(),
          kind: "notification",
          message: `notification ${type ?? "(no type)"} on ${sub.url}`,
          notification: { url: sub.url, field: sub.field, type },
        });
      });
      // The close event follows; it is the one place that reconnects.
      ws.on("error", () => undefined);
      ws.on("close", (code: number) => {
        sockets.delete(ws);
        firstAttempt();
        if (stopped) return;
        if (connected) note(`${url} closed (code ${code}); reconnecting every ${retryMs} ms`);
        connected = false;
        const timer = opts.clock.setTimeout(() => {
          timers.delete(timer);
          open();
        }, retryMs);
        timers.add(timer);
      });
    };
    open();
  };

  const started = Promise.all(
    subs.map(
      (sub) =>
        new Promise<void>((resolve) => {
          hold(sub, resolve);
        }),
    ),
  ).then(() => undefined);

  return {
    started,
    async stop() {
      stopped = true;
      for (const t of timers) opts.clock.clearTimeout(t);
      timers.clear();
      await closeAll([...sockets], opts.clock);
    },
  };
}

/** Closes each socket politely, cutting any that does not answer within a second. */
function closeAll(sockets: readonly WebSocket[], clock: Clock): Promise<unknown> {
  return Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          // Before the handshake there is nothing to close politely.
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
          else ws.close(1000, "run ended");
          const cut = clock.setTimeout(() => ws.terminate(), 1000);
          ws.once("close", () => clock.clearTimeout(cut));
        }),
    ),
  );
}
