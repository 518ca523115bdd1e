import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { DEFAULT_CONFIG } from "../../../reference-service/config.js";
import {
  AlertEngine,
  HealthCheckWindow,
  type AlertNotice,
  type AlertSnapshot,
} from "../../../reference-service/alerts/rules.js";

const T0 = Date.UTC(2026, 0, 1);
const rules = DEFAULT_CONFIG.alerts;
const healthy: AlertSnapshot = {
  breakers: [{ name: "worker", state: "closed" }],
  worker: { state: "running", reason: "ok", restarts: 0 },
  ready: true,
};
const breaker = (state: "closed" | "open" | "half_open"): AlertSnapshot => ({
  ...healthy,
  breakers: [{ name: "worker", state }],
});
const names = (ns: readonly AlertNotice[]): string[] =>
  ns.map((n) => `${n.status}:${n.labels.alertname}/${n.labels.severity}`);

/** Evaluates every `stepMs` for `count` steps, collecting notices with their time. */
function run(engine: AlertEngine, clock: ManualClock, snap: AlertSnapshot, count: number, stepMs = 1000) {
  const out: { at: number; notice: AlertNotice }[] = [];
  for (let i = 0; i < count; i++) {
    clock.advance(stepMs);
    for (const notice of engine.evaluate(snap)) out.push({ at: clock.now() - T0, notice });
  }
  return out;
}

describe("breaker rules (001: 'Alert if: OPEN > 5 minutes')", () => {
  it("BreakerOpen warns at once; BreakerOpenTooLong fires exactly 5 min after the breaker left closed", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(rules, clock);
    expect(engine.evaluate(healthy)).toEqual([]);
    clock.advance(1000); // t = 1 s: the breaker opens
    expect(names(engine.evaluate(breaker("open")))).toEqual(["firing:BreakerOpen/warning"]);
    // Open, half-open (a failed probe), open again: not closed for the whole time.
    const a = run(engine, clock, breaker("open"), 150);
    const b = run(engine, clock, breaker("half_open"), 1);
    const c = run(engine, clock, breaker("open"), 148);
    expect([...a, ...b, ...c]).toEqual([]); // t = 300 s: 299 s since it opened
    expect(engine.alerts().find((x) => x.labels.alertname === "BreakerOpenTooLong")?.state).toBe("pending");
    const fired = run(engine, clock, breaker("open"), 1); // t = 301 s: 300 s since it opened
    expect(fired.map((f) => [f.at, f.notice.labels.alertname, f.notice.labels.severity])).toEqual([
      [301_000, "BreakerOpenTooLong", "critical"],
    ]);
    expect(fired[0]?.notice.startsAtMs).toBe(T0 + 301_000);
    expect(fired[0]?.notice.labels.backend).toBe("worker");
  });

  it("resolves both at the first evaluation with the breaker closed, with startsAt and endsAt", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine({ ...rules, breakerOpenForMs: 10_000 }, clock);
    run(engine, clock, breaker("open"), 12); // opened at 1 s, long alert fired at 11 s
    const resolved = run(engine, clock, healthy, 2);
    expect(
      resolved.map((r) => [r.at, names([r.notice])[0], r.notice.startsAtMs - T0, r.notice.endsAtMs]),
    ).toEqual([
      [13_000, "resolved:BreakerOpen/warning", 1_000, T0 + 13_000],
      [13_000, "resolved:BreakerOpenTooLong/critical", 11_000, T0 + 13_000],
    ]);
    expect(engine.alerts()).toEqual([]);
    expect(engine.resolved()).toHaveLength(2);
  });

  it("a breaker that closes before the 5 minutes never fires the critical alert", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(rules, clock);
    const open = run(engine, clock, breaker("open"), 299);
    const closed = run(engine, clock, healthy, 1);
    expect([...open, ...closed].map((x) => names([x.notice])[0])).toEqual([
      "firing:BreakerOpen/warning",
      "resolved:BreakerOpen/warning",
    ]);
  });
});

describe("health check success rate (001: 'Target: > 99%', 100 check history, 'Alert if: < 95%')", () => {
  it("counts from the first passing check and over the last 100", () => {
    const w = new HealthCheckWindow(100);
    w.record(false); // loading at start-up: not a failed check
    expect(w.rate).toBeNull();
    for (let i = 0; i < 99; i++) w.record(true);
    w.record(false);
    expect([w.count, w.successes, w.rate]).toEqual([100, 99, 0.99]);
    w.record(true);
    expect([w.count, w.successes]).toEqual([100, 99]);
  });

  it("judges only a full history: 1 failed check in 10 raises nothing until there are 100", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(rules, clock);
    const early = [...run(engine, clock, healthy, 9), ...run(engine, clock, { ...healthy, ready: false }, 1)];
    expect(early).toEqual([]);
    expect(engine.health.rate).toBe(0.9);
    // Checks 11..99 pass: still 99 checks, no judgement; the 100th: 99 of 100 is not above 99%.
    expect(run(engine, clock, healthy, 89)).toEqual([]);
    expect(run(engine, clock, healthy, 1).map((x) => [x.at, names([x.notice])[0]])).toEqual([
      [100_000, "firing:HealthCheckSuccessBelowTarget/warning"],
    ]);
  });

  it("one failed check in 100 is not above 99%: warning; six is below 95%: critical; both resolve when the failures leave the window", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(rules, clock);
    expect(run(engine, clock, healthy, 100)).toEqual([]); // checks 1..100 pass (t = 1..100 s)
    const down = run(engine, clock, { ...healthy, ready: false }, 6); // t = 101..106 s
    expect(down.map((d) => [d.at, names([d.notice])[0]])).toEqual([
      [101_000, "firing:HealthCheckSuccessBelowTarget/warning"],
      [106_000, "firing:HealthCheckSuccessLow/critical"],
    ]);
    expect(engine.health.rate).toBe(0.94);
    // The critical one resolves when the first failure (t = 101 s) leaves the 100-check window
    // (t = 201 s: 95 of 100 passing is not below 95%); the warning when all six have (206 s).
    const back = run(engine, clock, healthy, 100);
    expect(back.map((d) => [d.at, names([d.notice])[0]])).toEqual([
      [201_000, "resolved:HealthCheckSuccessLow/critical"],
      [206_000, "resolved:HealthCheckSuccessBelowTarget/warning"],
    ]);
    expect(engine.health.rate).toBe(1);
  });
});

describe("worker rules", () => {
  it("warns while the worker restarts (after workerDownForMs), critical once the supervisor gives up", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine({ ...rules, workerDownForMs: 2000 }, clock, { service: "svc" });
    const restarting = {
      ...healthy,
      ready: false,
      worker: { state: "restarting", reason: "crash", restarts: 1 },
    };
    const r = run(engine, clock, restarting, 3); // down at 1 s; held 2 s at 3 s
    expect(r.map((x) => [x.at, names([x.notice])[0]])).toEqual([[3_000, "firing:WorkerRestarting/warning"]]);
    expect(r[0]?.notice.labels).toEqual({
      alertname: "WorkerRestarting",
      severity: "warning",
      service: "svc",
    });
    expect(r[0]?.notice.annotations.description).toBe("worker restarting: crash");
    const g = run(
      engine,
      clock,
      { ...restarting, worker: { state: "given-up", reason: "budget spent", restarts: 1 } },
      1,
    );
    expect(names(g.map((x) => x.notice))).toEqual([
      "firing:WorkerGivenUp/critical",
      "resolved:WorkerRestarting/warning",
    ]);
  });

  it("the worker's first start is not an outage; starting again after a restart is", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(rules, clock);
    const booting = { ...healthy, ready: false, worker: { state: "starting", reason: "boot", restarts: 0 } };
    expect(run(engine, clock, booting, 3)).toEqual([]);
    const again = { ...booting, worker: { ...booting.worker, restarts: 1 } };
    expect(run(engine, clock, again, 1).map((x) => names([x.notice])[0])).toEqual([
      "firing:WorkerRestarting/warning",
    ]);
  });

  it("a restart shorter than workerDownForMs raises nothing", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine({ ...rules, workerDownForMs: 2000 }, clock);
    const restarting = { ...healthy, worker: { state: "restarting", reason: "crash", restarts: 1 } };
    expect([...run(engine, clock, restarting, 2), ...run(engine, clock, healthy, 1)]).toEqual([]);
  });
});
