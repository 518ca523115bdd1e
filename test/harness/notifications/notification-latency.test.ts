import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { ManualClock } from "../../../common/clock.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import {
  messageType,
  socketUrl,
  startSubscribers,
  type Subscribers,
} from "../../../harness/notifications/subscriber.js";
import type { RunEvent } from "../../../harness/record/schema.js";
import { notificationArrivals, notificationSubscriptions } from "../../../harness/runner/analysis.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import { notificationVerdicts, type NotificationArrival } from "../../../harness/sla/notifications.js";

const T0 = Date.UTC(2026, 0, 1);
const URL_PATH = "/v1/reliability/events";
const at = (tMs: number, type: string | null, url = URL_PATH): NotificationArrival => ({
  tMs,
  url,
  field: "type",
  type,
});
const windows = [
  { id: "kill", kind: "process-kill", startMs: 3000, endMs: null },
  { id: "freeze", kind: "process-freeze", startMs: 10_000, endMs: 13_000 },
];

describe("notificationVerdicts", () => {
  it("takes, per fault, the first message of the type at or after its start", () => {
    const arrivals = [
      at(0, "snapshot"),
      at(2900, "fallback.activated"), // before the kill: not its notification
      at(3040, "breaker.open"),
      at(3120, "fallback.activated"),
      at(3120, "fallback.activated", "/other"),
      at(10_900, "fallback.activated"),
    ];
    const v = notificationVerdicts(
      { url: URL_PATH, event: "fallback.activated", max: 500 },
      "mock-mode",
      windows,
      arrivals,
    );
    expect(v.map((x) => [x.id, x.faultId, x.measured, x.passed, x.margin])).toEqual([
      ["mock-mode/kill", "kill", 120, true, 380],
      ["mock-mode/freeze", "freeze", 900, false, -400],
    ]);
    expect(v[0]?.description).toBe(`fallback.activated notified on ${URL_PATH} <= 500 ms after kill started`);
  });

  it("misses with no number when none arrived, and names a fault that does not exist", () => {
    const spec = { url: URL_PATH, event: "worker.ready", max: 1000 };
    const [none] = notificationVerdicts({ ...spec, fault: "kill" }, "ready", windows, [
      at(100, "worker.ready"),
    ]);
    expect([none?.id, none?.measured, none?.passed, none?.description]).toEqual([
      "ready",
      null,
      false,
      `worker.ready notified on ${URL_PATH} <= 1000 ms after kill started (none arrived)`,
    ]);
    const [missing] = notificationVerdicts({ ...spec, fault: "nope" }, "ready", windows, []);
    expect([missing?.passed, missing?.description]).toEqual([
      false,
      "worker.ready notified <= 1000 ms: no such fault nope",
    ]);
  });
});

describe("messageType and socketUrl", () => {
  it("reads the named string field of a JSON object, else null", () => {
    expect(messageType('{"type":"breaker.open","seq":1}', "type")).toBe("breaker.open");
    expect(messageType('{"event":"x"}', "event")).toBe("x");
    expect(messageType('{"type":3}', "type")).toBeNull();
    expect(messageType("[1]", "type")).toBeNull();
    expect(messageType("not json", "type")).toBeNull();
  });

  it("resolves a path against the target with ws:// (wss:// for https://), a ws URL as given", () => {
    expect(socketUrl("/v1/e", "http://127.0.0.1:8080")).toBe("ws://127.0.0.1:8080/v1/e");
    expect(socketUrl("/v1/e", "https://svc.example/")).toBe("wss://svc.example/v1/e");
    expect(socketUrl("ws://other:1/x", "http://127.0.0.1:8080")).toBe("ws://other:1/x");
  });
});

describe("the run's WebSocket subscriber", () => {
  let server: WebSocketServer | undefined;
  let subs: Subscribers | undefined;
  afterEach(async () => {
    await subs?.stop();
    subs = undefined;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it("records each message's type at run time on the injected clock, and reconnects after a loss", async () => {
    const clock = new ManualClock(T0);
    server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((r) => server!.once("listening", () => r()));
    const conns: WebSocket[] = [];
    const waiters: (() => void)[] = [];
    server.on("connection", (ws) => {
      conns.push(ws);
      for (const w of waiters.splice(0)) w();
    });
    const connections = async (n: number) => {
      while (conns.length < n) await new Promise<void>((r) => waiters.push(r));
    };
    const { port } = server.address() as AddressInfo;
    const events: RunEvent[] = [];
    let received = 0;
    const arrived: (() => void)[] = [];
    const untilEvents = async (n: number) => {
      while (events.filter((e) => e.kind === "notification").length < n)
        await new Promise<void>((r) => arrived.push(r));
    };
    subs = startSubscribers([{ url: URL_PATH, field: "type" }], {
      targetUrl: `http://127.0.0.1:${port}`,
      clock,
      originMs: () => T0 + 1000,
      retryMs: 250,
      onEvent: (e) => {
        events.push(e);
        if (e.kind === "notification") received++;
        for (const w of arrived.splice(0)) w();
      },
    });
    await subs.started;
    await connections(1);
    clock.advance(1500);
    conns[0].send(JSON.stringify({ type: "breaker.open", seq: 1 }));
    conns[0].send("not json");
    await untilEvents(2);
    conns[0].close(1001, "bye");
    // The loss is noted; the reconnect waits for retryMs on the run's clock.
    while (!events.some((e) => e.kind === "note" && e.message.includes("closed (code 1001)")))
      await new Promise<void>((r) => arrived.push(r));
    clock.advance(250);
    await connections(2);
    clock.advance(500);
    conns[1].send(JSON.stringify({ type: "worker.ready", pid: 7 }));
    await untilEvents(3);
    expect(received).toBe(3);
    expect(notificationArrivals(events)).toEqual([
      { tMs: 500, url: URL_PATH, field: "type", type: "breaker.open" },
      { tMs: 500, url: URL_PATH, field: "type", type: null },
      { tMs: 1250, url: URL_PATH, field: "type", type: "worker.ready" },
    ]);
  });
});

describe("scenario fields for notification-latency", () => {
  const scenario = (slos: string) => `name: notify
target: { kind: reference }
load: { rate: 10, duration: 5s, mix: [{ kind: chat, model: sim-utility }] }
faults: [{ id: kill, kind: process-kill, target: worker, at: 1s }]
slos:
${slos}`;

  it("parses durations to ms, defaults field to type, and gives one subscription per url and field", () => {
    const r = parseScenario(
      scenario(`  - { kind: notification-latency, url: ${URL_PATH}, event: fallback.activated, max: 2s, fault: kill }
  - { kind: notification-latency, url: ${URL_PATH}, event: worker.ready, max: 3s }`),
      "n.yaml",
      FAULT_KINDS,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.scenario.slos[0]).toEqual({
      kind: "notification-latency",
      url: URL_PATH,
      event: "fallback.activated",
      field: "type",
      max: 2000,
      fault: "kill",
    });
    expect(notificationSubscriptions(r.value.scenario)).toEqual([{ url: URL_PATH, field: "type" }]);
  });

  it("refuses a url that is neither a path nor ws://", () => {
    const r = parseScenario(
      scenario(`  - { kind: notification-latency, url: "http://x/e", event: a, max: 2s }
`),
      "n.yaml",
      FAULT_KINDS,
    );
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(["slos[0].url"]);
  });
});
