import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { isInvalidInputError } from "../../../common/errors.js";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { resolveConfig } from "../../../reference-service/config.js";
import { fingerprint, webhookPayload, ZERO_TIME } from "../../../reference-service/alerts/webhook.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "../api/harness.js";
import { parseExposition } from "../api/prom-text.js";

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const labels = { alertname: "BreakerOpen", severity: "warning", backend: "worker" };
const annotations = { summary: "s", description: "d" };

describe("Alertmanager webhook payload (version 4)", () => {
  it("a firing alert: the fields Alertmanager sends, endsAt the zero time", () => {
    const p = webhookPayload(
      { status: "firing", labels, annotations, startsAtMs: T, endsAtMs: null },
      "http://127.0.0.1:8000",
      "rx",
    );
    expect(p).toEqual({
      version: "4",
      groupKey: '{}:[["alertname","BreakerOpen"],["backend","worker"],["severity","warning"]]',
      truncatedAlerts: 0,
      status: "firing",
      receiver: "rx",
      groupLabels: { alertname: "BreakerOpen" },
      commonLabels: labels,
      commonAnnotations: annotations,
      externalURL: "http://127.0.0.1:8000",
      alerts: [
        {
          status: "firing",
          labels,
          annotations,
          startsAt: "2026-01-01T12:00:00.000Z",
          endsAt: ZERO_TIME,
          generatorURL: "http://127.0.0.1:8000/v1/reliability/alerts",
          fingerprint: fingerprint(labels),
        },
      ],
    });
  });

  it("a resolved alert carries its end", () => {
    const p = webhookPayload(
      { status: "resolved", labels, annotations, startsAtMs: T, endsAtMs: T + 1500 },
      "http://x",
      "rx",
    );
    expect([p.status, p.alerts[0]?.status, p.alerts[0]?.endsAt]).toEqual([
      "resolved",
      "resolved",
      "2026-01-01T12:00:01.500Z",
    ]);
  });

  it("fingerprints as Prometheus does: FNV-1a 64 over sorted labels (empty set = the FNV offset basis)", () => {
    expect(fingerprint({})).toBe("cbf29ce484222325");
    expect(fingerprint({ b: "2", a: "1" })).toBe(fingerprint({ a: "1", b: "2" }));
    expect(fingerprint({ a: "1" })).not.toBe(fingerprint({ a: "2" }));
    expect(fingerprint(labels)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("alerts.webhookUrl validation", () => {
  const issue = (alerts: Record<string, unknown>): string => {
    try {
      resolveConfig({ alerts });
      return "accepted";
    } catch (e) {
      if (!isInvalidInputError(e)) throw e;
      return e.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    }
  };
  it("accepts loopback http(s), refuses other schemes and non-loopback hosts unless allowed", () => {
    expect(issue({ webhookUrl: "http://127.0.0.1:9093/alerts" })).toBe("accepted");
    expect(issue({ webhookUrl: "https://localhost/x" })).toBe("accepted");
    expect(issue({ webhookUrl: "ftp://127.0.0.1/x" })).toBe(
      "alerts.webhookUrl: expected an http:// or https:// URL, found ftp:",
    );
    expect(issue({ webhookUrl: "not a url" })).toBe('alerts.webhookUrl: not a URL: "not a url"');
    expect(issue({ webhookUrl: "http://alerts.example.com/hook" })).toMatch(
      /^alerts.webhookUrl: refusing to send alerts to non-loopback host "alerts.example.com"/,
    );
    expect(issue({ webhookUrl: "http://alerts.example.com/hook", allowNonLoopbackWebhook: true })).toBe(
      "accepted",
    );
  });
});

/** A loopback receiver that keeps every payload. */
async function receiver(): Promise<{ url: string; got: unknown[]; server: Server }> {
  const got: unknown[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      got.push(JSON.parse(Buffer.concat(parts).toString("utf8")));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, got, server };
}

async function until<T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the reference service raises and resolves alerts through the webhook", () => {
  let t: TestService | undefined;
  let rx: Awaited<ReturnType<typeof receiver>> | undefined;
  afterEach(async () => {
    await t?.stop();
    rx?.server.close();
    t = rx = undefined;
  });

  it("breaker opens: BreakerOpen firing is POSTed; reset: resolved; both at /v1/reliability/alerts", async () => {
    rx = await receiver();
    const TOKEN = "alerts-test-token-0123456789abcdef";
    t = await startWithScriptedBackend({
      adminToken: TOKEN,
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
      // hostRules off: this machine's own CPU load must not add alerts to the exact lists below.
      alerts: { evaluateIntervalMs: 50, webhookUrl: rx.url, hostRules: false },
    });
    t.backend.fallbackStep = { kind: "fail", error: () => new WorkerUnavailableError("down") };
    for (let i = 0; i < 2; i++) await post(`${t.url}/v1/chat/completions`, chatBody());
    type P = { status: string; alerts: { labels: Record<string, string>; endsAt: string }[] };
    const firing = await until("firing", () => (rx!.got as P[]).find((p) => p.status === "firing"));
    expect(firing.alerts[0]?.labels).toEqual({
      alertname: "BreakerOpen",
      severity: "warning",
      service: "faultline-reference",
      backend: "worker",
    });
    expect(firing.alerts[0]?.endsAt).toBe(ZERO_TIME);
    const listed = (await (await fetch(`${t.url}/v1/reliability/alerts`)).json()) as {
      alerts: { labels: Record<string, string>; state: string }[];
      healthChecks: { window: number };
    };
    expect(listed.alerts.map((a) => `${a.labels.alertname}:${a.state}`)).toEqual([
      "BreakerOpen:firing",
      "BreakerOpenTooLong:pending",
    ]);
    expect(listed.healthChecks.window).toBe(100);

    const reset = await post(
      `${t.url}/v1/reliability/breakers/reset`,
      {},
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(reset.status).toBe(200);
    const resolved = await until("resolved", () => (rx!.got as P[]).find((p) => p.status === "resolved"));
    expect(resolved.alerts[0]?.labels.alertname).toBe("BreakerOpen");
    expect(Date.parse(resolved.alerts[0]?.endsAt ?? "")).toBeGreaterThan(0);
    // Exactly one firing and one resolved: a pending alert that never fired sends nothing.
    expect(rx.got.map((p) => (p as P).status)).toEqual(["firing", "resolved"]);

    const samples = parseExposition(await (await fetch(`${t.url}/metrics`)).text()).samples;
    const ratio = samples.find((s) => s.name === "faultline_health_check_success_ratio");
    expect([ratio?.labels, ratio?.value]).toEqual([{ window: "100" }, 1]); // degraded is ready
    const sent = samples.filter((s) => s.name === "faultline_alert_notifications_total");
    expect(sent.map((s) => `${s.labels.status}/${s.labels.result}=${s.value}`).sort()).toEqual([
      "firing/sent=1",
      "resolved/sent=1",
    ]);
  });

  it("a monitor on a ManualClock evaluates only when the clock moves", async () => {
    const clock = new ManualClock(T);
    const { AlertMonitor } = await import("../../../reference-service/alerts/monitor.js");
    const { createMetrics } = await import("../../../reference-service/metrics/registry.js");
    const metrics = createMetrics({ running: () => 0, waiting: () => 0, inflight: () => 0 });
    let state: "closed" | "open" = "closed";
    const m = new AlertMonitor({
      config: resolveConfig({ alerts: { hostRules: false } }).alerts,
      clock,
      metrics,
      snapshot: () => ({ breakers: [{ name: "w", state }], worker: null, ready: true }),
      externalUrl: () => "http://127.0.0.1:1",
    });
    // No series before the first health check (a NaN or 0 would be a made-up value).
    expect(await metrics.registry.metrics()).not.toMatch(/^faultline_health_check_success_ratio\{/m);
    m.start();
    state = "open";
    clock.advance(999);
    expect(m.engine.alerts()).toEqual([]);
    clock.advance(1);
    expect(m.engine.alerts().map((a) => a.labels.alertname)).toEqual(["BreakerOpen", "BreakerOpenTooLong"]);
    expect(await metrics.registry.metrics()).toMatch(
      /^faultline_health_check_success_ratio\{window="100"\} 1$/m,
    );
    m.stop();
    expect(clock.pendingTimers).toBe(0);
  });
  it("shutdown's flush is bounded: an unreachable receiver's retries do not hold it past maxMs", async () => {
    const clock = new ManualClock(T);
    const { AlertMonitor } = await import("../../../reference-service/alerts/monitor.js");
    const { createMetrics } = await import("../../../reference-service/metrics/registry.js");
    const metrics = createMetrics({ running: () => 0, waiting: () => 0, inflight: () => 0 });
    const m = new AlertMonitor({
      // Port 1 on loopback: refused at once; the sender then waits on the clock to retry.
      config: { ...resolveConfig({}).alerts, hostRules: false, webhookUrl: "http://127.0.0.1:1/alerts" },
      clock,
      metrics,
      snapshot: () => ({ breakers: [{ name: "w", state: "open" }], worker: null, ready: true }),
      externalUrl: () => "http://127.0.0.1:1",
    });
    expect(m.evaluate().map((n) => n.labels.alertname)).toEqual(["BreakerOpen"]);
    let done = false;
    const flushed = m.flush(500).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    await clock.advanceAsync(500);
    await flushed;
    expect(done).toBe(true);
  });
});
