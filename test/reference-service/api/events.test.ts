import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ManualClock } from "../../../common/clock.js";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import {
  CLOSE_GOING_AWAY,
  CLOSE_TOO_SLOW,
  EVENTS_PATH,
  ReliabilityEvents,
  type HealthView,
} from "../../../reference-service/api/events.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "./harness.js";

const TOKEN = "events-test-token-0123456789abcdef";
const down = () => new WorkerUnavailableError("worker down");

interface Msg {
  readonly type: string;
  readonly seq: number;
  readonly [k: string]: unknown;
}

/** A real ws client that keeps every message and lets a test wait for one. */
class Subscriber {
  readonly messages: Msg[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, "ws")}${EVENTS_PATH}`);
    this.ws.on("message", (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString("utf8")) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
    // A refused upgrade or a terminate before the handshake is an error event; tests look at close.
    this.ws.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      this.ws.on("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })),
    );
  }

  /** Waits (no fixed sleep) until a message of `type` arrived; resolves with the first one. */
  async next(type: string): Promise<Msg> {
    for (;;) {
      const found = this.messages.find((m) => m.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const subs: Subscriber[] = [];
const subscribe = (url: string): Subscriber => {
  const s = new Subscriber(url);
  subs.push(s);
  return s;
};

let t: TestService | undefined;
afterEach(async () => {
  for (const s of subs.splice(0)) s.ws.terminate();
  await t?.stop();
  t = undefined;
});

describe("GET /v1/reliability/events (WebSocket)", () => {
  it("sends a snapshot on connect", async () => {
    t = await startWithScriptedBackend({ alerts: { hostRules: false } });
    const s = subscribe(t.url);
    const snap = await s.next("snapshot");
    expect(snap).toEqual({
      type: "snapshot",
      seq: expect.any(Number),
      time: expect.any(String),
      health: { status: "ready", ready: true, reason: expect.any(String), serviceLevel: "full" },
      breakers: [{ name: t.backend.name, state: "closed" }],
      worker: null,
      fallback: { active: false },
      firingAlerts: [],
    });
  });

  it("pushes fallback activation, the breaker opening, the health change and the alert, then the recovery", async () => {
    t = await startWithScriptedBackend({
      adminToken: TOKEN,
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
      alerts: { hostRules: false },
    });
    const s = subscribe(t.url);
    await s.next("snapshot");
    t.backend.fallbackStep = { kind: "fail", error: down };
    for (let i = 0; i < 2; i++)
      expect((await post(`${t.url}/v1/chat/completions`, chatBody())).status).toEqual(200);
    expect(await s.next("fallback.activated")).toMatchObject({
      level: "degraded",
      reason: expect.any(String),
    });
    expect(await s.next("breaker.open")).toMatchObject({ name: t.backend.name, from: "closed", to: "open" });
    expect(await s.next("health.changed")).toMatchObject({
      status: "degraded",
      previous: "ready",
      serviceLevel: "degraded",
    });
    t.svc.alerts.evaluate();
    expect(await s.next("alert.firing")).toMatchObject({ name: "BreakerOpen", severity: "warning" });
    // Only one activation while the fallbacks keep answering.
    expect(s.messages.filter((m) => m.type === "fallback.activated")).toHaveLength(1);

    t.backend.fallbackStep = { kind: "ok" };
    const reset = await post(
      `${t.url}/v1/reliability/breakers/reset`,
      {},
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(reset.status).toEqual(200);
    expect(await s.next("breaker.closed")).toMatchObject({ from: "open", to: "closed" });
    expect(await s.next("fallback.ended")).toMatchObject({ type: "fallback.ended" });
    t.svc.alerts.evaluate();
    expect(await s.next("alert.resolved")).toMatchObject({ name: "BreakerOpen" });
    const health = s.messages.filter((m) => m.type === "health.changed").map((m) => m.status);
    expect(health).toEqual(["degraded", "ready"]);
    // seq counts up by one: nothing was skipped for this subscriber.
    const seqs = s.messages.slice(1).map((m) => m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  });

  it("refuses a subscriber over maxClients with 503 before the upgrade", async () => {
    t = await startWithScriptedBackend({ events: { maxClients: 1 } });
    await subscribe(t.url).next("snapshot");
    const second = subscribe(t.url);
    const status = await new Promise<number>((resolve) =>
      second.ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toEqual(503);
  });

  it("closes a subscriber that does not read with 1013 once its unsent bytes pass maxBufferedBytes", async () => {
    t = await startWithScriptedBackend({ events: { maxBufferedBytes: 64 * 1024 } });
    const slow = subscribe(t.url);
    const fast = subscribe(t.url);
    await slow.next("snapshot");
    await fast.next("snapshot");
    // The slow client stops reading: TCP backpressure fills the kernel buffers, then ws's.
    slow.ws.pause();
    let code: number | null = null;
    void slow.closed.then((c) => (code = c.code));
    let sent = 0;
    // Bounded: 64 KiB over the kernel's loopback buffers is reached long before 200k messages.
    while (t.svc.events.subscribers === 2 && sent < 200_000) {
      for (let i = 0; i < 1000; i++) t.svc.events.breakerTransition("x".repeat(200), "closed", "open");
      sent += 1000;
      await new Promise((r) => setImmediate(r));
    }
    expect(t.svc.events.subscribers).toEqual(1);
    slow.ws.resume();
    await slow.closed;
    expect(code).toEqual(CLOSE_TOO_SLOW);
    // The reader that kept up is still subscribed and gets the next message.
    t.svc.events.workerReady(42);
    expect(await fast.next("worker.ready")).toMatchObject({ pid: 42 });
  });

  it("closes every subscriber with 1001 on drain", async () => {
    t = await startWithScriptedBackend({});
    const s = subscribe(t.url);
    await s.next("snapshot");
    const [closed] = await Promise.all([s.closed, t.svc.close()]);
    expect(closed.code).toEqual(CLOSE_GOING_AWAY);
  });
});

describe("ReliabilityEvents (on a manual clock)", () => {
  it("reads health every checkIntervalMs and ends fallback mode after a quiet interval at full service", () => {
    const clock = new ManualClock(0);
    const hub = new ReliabilityEvents(clock, 100);
    const got: Msg[] = [];
    hub.subscribe((text) => got.push(JSON.parse(text) as Msg));
    let health: HealthView = { status: "ready", ready: true, reason: "ok", serviceLevel: "full" };
    hub.start({ health: () => health, breakers: () => [], worker: () => null, firingAlerts: () => [] });
    hub.fallbackServed("degraded", "cache", "worker_unavailable");
    hub.fallbackServed("degraded", "cache", "worker_unavailable");
    health = { status: "degraded", ready: true, reason: "breaker open", serviceLevel: "degraded" };
    clock.advance(100);
    health = { status: "ready", ready: true, reason: "ok", serviceLevel: "full" };
    hub.fallbackServed("degraded", "cache", "worker_unavailable");
    clock.advance(100); // a fallback answered during this interval: still in fallback mode
    clock.advance(100);
    hub.workerRestarting("crash", 0);
    hub.workerGivenUp("budget");
    expect(got.map((m) => [m.type, m.seq, m.time])).toEqual([
      ["fallback.activated", 1, "1970-01-01T00:00:00.000Z"],
      ["health.changed", 2, "1970-01-01T00:00:00.100Z"],
      ["health.changed", 3, "1970-01-01T00:00:00.200Z"],
      ["fallback.ended", 4, "1970-01-01T00:00:00.300Z"],
      ["worker.restarting", 5, "1970-01-01T00:00:00.300Z"],
      ["worker.given-up", 6, "1970-01-01T00:00:00.300Z"],
    ]);
    hub.stop();
    clock.advance(1000);
    expect(got).toHaveLength(6);
  });
});
