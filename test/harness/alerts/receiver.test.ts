import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { startAlertReceiver, type AlertReceiver } from "../../../harness/alerts/receiver.js";
import type { RunEvent } from "../../../harness/record/schema.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import { alertVerdicts, type AlertArrival } from "../../../harness/sla/alerts.js";

const T0 = Date.UTC(2026, 0, 1);

/** An Alertmanager webhook body (version 4) with one alert, as Alertmanager itself sends it. */
const payload = (
  status: "firing" | "resolved",
  name = "BreakerOpen",
  extra: Record<string, unknown> = {},
) => ({
  receiver: "faultline",
  status,
  alerts: [
    {
      status,
      labels: { alertname: name, severity: "warning", backend: "worker" },
      annotations: { summary: "s", description: "breaker open" },
      startsAt: "2026-01-01T00:00:01.000Z",
      endsAt: status === "firing" ? "0001-01-01T00:00:00Z" : "2026-01-01T00:00:05.000Z",
      generatorURL: "http://127.0.0.1/x",
      fingerprint: "0123456789abcdef",
    },
  ],
  groupLabels: { alertname: name },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: "http://127.0.0.1:9093",
  version: "4",
  groupKey: "{}:{}",
  truncatedAlerts: 0,
  ...extra,
});

describe("the run's Alertmanager webhook receiver", () => {
  let rx: AlertReceiver | undefined;
  afterEach(async () => {
    await rx?.stop();
    rx = undefined;
  });

  it("records each firing and resolved alert once, at run time, and refuses what is not a version 4 payload", async () => {
    const clock = new ManualClock(T0);
    const events: RunEvent[] = [];
    rx = await startAlertReceiver({ port: 0, clock, originMs: () => T0, onEvent: (e) => events.push(e) });
    expect(rx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/alerts$/);
    const send = (body: unknown, url = rx!.url) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    clock.advance(2500);
    expect((await send(payload("firing"))).status).toBe(200);
    clock.advance(1000);
    expect((await send(payload("firing"))).status).toBe(200); // repeat_interval: same state
    clock.advance(1000);
    expect((await send(payload("resolved"))).status).toBe(200);
    const bad = await send({ ...payload("firing"), version: "3" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^not an Alertmanager webhook payload \(version 4\): version: /);
    expect((await send(payload("firing"), rx.url.replace("/alerts", "/other"))).status).toBe(404);
    expect(events.map((e) => [e.tMs, e.kind, e.message])).toEqual([
      [2500, "alert", "firing: BreakerOpen (warning) backend=worker: breaker open"],
      [4500, "alert", "resolved: BreakerOpen (warning) backend=worker: breaker open"],
      [4500, "note", expect.stringMatching(/^alert receiver refused a payload: version: /)],
    ]);
    expect(events[0]?.alert).toEqual({
      name: "BreakerOpen",
      status: "firing",
      severity: "warning",
      labels: { alertname: "BreakerOpen", severity: "warning", backend: "worker" },
      startsAt: "2026-01-01T00:00:01.000Z",
      endsAt: null,
    });
    expect(events[1]?.alert?.endsAt).toBe("2026-01-01T00:00:05.000Z");
    expect(rx.notifications).toBe(3);
  });
});

describe("alert SLOs", () => {
  const windows = [{ id: "kill", kind: "process-kill", startMs: 2000, endMs: null }];
  const analysis = [{ fullServicePointMs: 6000 }] as unknown as Parameters<typeof alertVerdicts>[3];
  const arrivals: AlertArrival[] = (
    [
      { tMs: 2400, name: "BreakerOpen", status: "firing", message: "firing: BreakerOpen: open" },
      { tMs: 5800, name: "BreakerOpen", status: "resolved", message: "resolved: BreakerOpen: open" },
      { tMs: 2600, name: "WorkerRestarting", status: "firing", message: "firing: WorkerRestarting: 9 of 10" },
    ] as AlertArrival[]
  ).sort((a, b) => a.tMs - b.tMs);
  const brief = (v: ReturnType<typeof alertVerdicts>) =>
    v.map((x) => [x.id, x.measured, x.bound, x.passed, x.description]);

  it("fired within D of the fault's start and resolved within R of its recovery to full service", () => {
    const spec = { kind: "alert" as const, alert: "BreakerOpen", within: 1000, resolvesWithin: 0 };
    expect(brief(alertVerdicts(spec, "a", windows, analysis, arrivals))).toEqual([
      ["a/fired", 400, 1000, true, "alert BreakerOpen fired <= 1000 ms after kill started"],
      [
        "a/resolved",
        -200,
        0,
        true,
        "alert BreakerOpen resolved <= 0 ms after kill's recovery to full service",
      ],
    ]);
    expect(brief(alertVerdicts({ ...spec, within: 300 }, "a", windows, analysis, arrivals))[0]?.[3]).toBe(
      false,
    );
  });

  it("an alert already firing when the fault starts counts as fired at the start; one resolved before it does not", () => {
    const early: AlertArrival[] = [
      { tMs: 500, name: "CpuUsageHigh", status: "firing", message: "firing: CpuUsageHigh: 92%" },
      { tMs: 6100, name: "CpuUsageHigh", status: "resolved", message: "resolved: CpuUsageHigh" },
      { tMs: 700, name: "Flap", status: "firing", message: "firing: Flap" },
      { tMs: 900, name: "Flap", status: "resolved", message: "resolved: Flap" },
    ];
    const spec = { kind: "alert" as const, alert: "CpuUsageHigh", within: 1000, resolvesWithin: 500 };
    expect(brief(alertVerdicts(spec, "c", windows, analysis, early))).toEqual([
      [
        "c/fired",
        0,
        1000,
        true,
        "alert CpuUsageHigh fired <= 1000 ms after kill started (already firing when it started)",
      ],
      [
        "c/resolved",
        100,
        500,
        true,
        "alert CpuUsageHigh resolved <= 500 ms after kill's recovery to full service",
      ],
    ]);
    const flap = alertVerdicts({ kind: "alert", alert: "Flap", within: 1000 }, "f", windows, analysis, early);
    expect(brief(flap)).toEqual([
      ["f", null, 1000, false, "alert Flap fired <= 1000 ms after kill started (it did not fire)"],
    ]);
  });

  it("an alert that never fired or never resolved is not measured, and says why", () => {
    const spec = { kind: "alert" as const, alert: "WorkerRestarting", within: 1000, resolvesWithin: 5000 };
    expect(
      brief(alertVerdicts(spec, "w", windows, analysis, arrivals)).map((v) => [v[0], v[1], v[3], v[4]]),
    ).toEqual([
      ["w/fired", 600, true, "alert WorkerRestarting fired <= 1000 ms after kill started"],
      [
        "w/resolved",
        null,
        false,
        "alert WorkerRestarting resolved <= 5000 ms after kill's recovery to full service (it did not resolve before the run ended)",
      ],
    ]);
    const none = alertVerdicts(
      { kind: "alert", alert: "Nope", within: 1000 },
      "n",
      windows,
      analysis,
      arrivals,
    );
    expect(brief(none)).toEqual([
      ["n", null, 1000, false, "alert Nope fired <= 1000 ms after kill started (it did not fire)"],
    ]);
  });

  it("fires: false counts every firing of the name (or of any alert)", () => {
    expect(
      brief(alertVerdicts({ kind: "alert", fires: false, alert: "Nope" }, "q", windows, analysis, arrivals)),
    ).toEqual([["q", 0, 0, true, "alert Nope never fired"]]);
    expect(brief(alertVerdicts({ kind: "alert", fires: false }, "q", windows, analysis, arrivals))).toEqual([
      [
        "q",
        2,
        0,
        false,
        "no alert fired (fired: firing: BreakerOpen: open; firing: WorkerRestarting: 9 of 10)",
      ],
    ]);
  });
});

describe("scenario fields for alerts", () => {
  const scenario = (extra: string, slos: string, target = "{ kind: reference }") => `name: alerts
target: ${target}
load: { rate: 10, duration: 5s, mix: [{ kind: chat, model: sim-utility }] }
faults: [{ id: kill, kind: process-kill, target: worker, at: 1s }]
${extra}
slos:
${slos}`;
  const issues = (text: string) => {
    const r = parseScenario(text, "alerts.yaml", FAULT_KINDS);
    return r.ok ? [] : r.issues.map((i) => [i.path, i.message]);
  };

  it("names the field and the fix", () => {
    expect(issues(scenario("", "  - { kind: alert, alert: BreakerOpen, within: 5s }"))).toEqual([
      ["slos[0].kind", "an alert SLO judges the alerts the run receives, and this scenario receives none"],
    ]);
    expect(issues(scenario("alerts: {}", "  - { kind: alert, alert: BreakerOpen }"))).toEqual([
      ["slos[0].within", "say how soon after the fault's start the alert must fire (e.g. within: 10s)"],
    ]);
    expect(issues(scenario("alerts: {}", "  - { kind: alert, fires: false, within: 5s }"))).toEqual([
      [
        "slos[0].within",
        "within applies to an alert that must fire; with fires: false the alert must not fire at all (remove within)",
      ],
    ]);
    expect(issues(scenario("alerts: { port: 70000 }", "  - { kind: alert, fires: false }"))[0]?.[0]).toBe(
      "alerts.port",
    );
    expect(
      issues(
        scenario(
          "alerts: {}",
          "  - { kind: alert, fires: false }",
          '{ kind: reference, options: { alerts: { webhookUrl: "http://127.0.0.1:1/x" } } }',
        ),
      ),
    ).toEqual([
      [
        "target.options.alerts.webhookUrl",
        "the scenario's alerts section gives the reference service the run receiver's URL; a webhookUrl of its own would be overwritten",
      ],
    ]);
  });

  it("accepts a firing alert judged per fault, with its durations in ms", () => {
    const r = parseScenario(
      scenario(
        "alerts: {}",
        "  - { kind: alert, alert: BreakerOpen, within: 5s, resolvesWithin: 2s, fault: kill }",
      ),
      "alerts.yaml",
      FAULT_KINDS,
    );
    expect(r.ok && r.value.scenario.slos).toEqual([
      { kind: "alert", alert: "BreakerOpen", fires: true, within: 5000, resolvesWithin: 2000, fault: "kill" },
    ]);
    expect(r.ok && r.value.scenario.alerts).toEqual({ port: 0 });
  });
});
