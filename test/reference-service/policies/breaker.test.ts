import { BrokenCircuitError } from "cockatiel";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { ModelNotFoundError, WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { BackendBreaker } from "../../../reference-service/policies/breaker.js";

// cockatiel's breaker reads Date.now(); only Date is faked, and moved in step with the ManualClock
// the wrapper reads, so both agree exactly.
const START = Date.UTC(2026, 0, 1);
let clock: ManualClock;
const advance = (ms: number) => {
  clock.advance(ms);
  vi.setSystemTime(clock.now());
};
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  clock = new ManualClock(START);
  vi.setSystemTime(START);
});
afterEach(() => vi.useRealTimers());

const fail = () => Promise.reject(new WorkerUnavailableError("down"));
const ok = () => Promise.resolve("ok");

async function outcome(b: BackendBreaker, fn: () => Promise<string>): Promise<string> {
  try {
    return await b.policy.execute(fn);
  } catch (e) {
    return e instanceof BrokenCircuitError ? "fast-fail" : (e as Error).constructor.name;
  }
}

function setup() {
  const transitions: string[] = [];
  const b = new BackendBreaker(
    "worker",
    { failureThreshold: 3, halfOpenAfterMs: 60_000 },
    clock,
    (_n, f, t) => transitions.push(`${f}->${t}`),
  );
  return { b, transitions };
}

describe("BackendBreaker", () => {
  it("opens after N consecutive counted failures, fails fast, half-opens after the period, closes on success", async () => {
    const { b, transitions } = setup();
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError");
    expect(await outcome(b, () => Promise.reject(new ModelNotFoundError("x")))).toEqual("ModelNotFoundError"); // not counted
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError");
    expect(b.state).toEqual("closed");
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError");
    expect(b.state).toEqual("open");
    expect(await outcome(b, ok)).toEqual("fast-fail");
    advance(59_999);
    expect(b.msUntilHalfOpen()).toEqual(1);
    expect(await outcome(b, ok)).toEqual("fast-fail");
    advance(1);
    expect(await outcome(b, ok)).toEqual("ok");
    expect(transitions).toEqual(["closed->open", "open->half_open", "half_open->closed"]);
  });

  it("a recovered backend is probed at once; a failed probe waits 1 s, not another full period", async () => {
    const { b, transitions } = setup();
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    advance(5000);
    expect(b.msUntilHalfOpen()).toEqual(55_000);
    b.backendRecovered();
    expect(b.msUntilHalfOpen()).toEqual(0);
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError"); // the probe, failing
    expect(b.state).toEqual("open");
    expect(b.msUntilHalfOpen()).toEqual(1000);
    advance(999);
    expect(await outcome(b, ok)).toEqual("fast-fail");
    advance(1);
    expect(await outcome(b, ok)).toEqual("ok");
    expect(transitions).toEqual([
      "closed->open",
      "open->half_open",
      "half_open->open",
      "open->half_open",
      "half_open->closed",
    ]);
    // Closed again: the next opening gets the full period.
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    expect(b.msUntilHalfOpen()).toEqual(60_000);
  });

  it("a recovery signal while closed changes nothing", async () => {
    const { b } = setup();
    b.backendRecovered();
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    expect(b.msUntilHalfOpen()).toEqual(60_000);
  });

  it("reports its failure count, when it opened and when it will half-open, exactly", async () => {
    const { b } = setup();
    expect([b.consecutiveFailures, b.lastOpenedAt, b.halfOpenAt()]).toEqual([0, null, null]);
    await outcome(b, fail);
    await outcome(b, fail);
    expect([b.state, b.consecutiveFailures]).toEqual(["closed", 2]);
    advance(250);
    await outcome(b, fail);
    expect([b.state, b.consecutiveFailures, b.lastOpenedAt, b.halfOpenAt()]).toEqual([
      "open",
      3,
      START + 250,
      START + 250 + 60_000,
    ]);
    b.backendRecovered(); // the period is cut short: a probe may go now
    advance(10);
    expect(b.halfOpenAt()).toEqual(START + 260);
  });

  it("reset closes an open breaker at once and forgets the failures: the next failure does not reopen it", async () => {
    const { b, transitions } = setup();
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    advance(1000);
    expect(b.reset()).toEqual("open");
    expect([b.state, b.consecutiveFailures, b.halfOpenAt(), b.msUntilHalfOpen()]).toEqual([
      "closed",
      0,
      null,
      0,
    ]);
    // Tried, not fast-failed, 59 s before the period would end; one failure is one, not four.
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError");
    expect([b.state, b.consecutiveFailures]).toEqual(["closed", 1]);
    await outcome(b, fail);
    expect(b.state).toEqual("closed");
    await outcome(b, fail);
    expect([b.state, b.msUntilHalfOpen()]).toEqual(["open", 60_000]); // a full period again
    expect(transitions).toEqual(["closed->open", "open->closed", "closed->open"]);
  });

  it("reset of a closed breaker clears its count and reports no transition", async () => {
    const { b, transitions } = setup();
    await outcome(b, fail);
    await outcome(b, fail);
    expect(b.reset()).toEqual("closed");
    expect([b.state, b.consecutiveFailures, b.lastOpenedAt]).toEqual(["closed", 0, null]);
    expect(transitions).toEqual([]);
  });

  it("refusesNow says exactly what policy.execute would do, at every point of the open period", async () => {
    const { b } = setup();
    const both = async () => [b.refusesNow(), await outcome(b, ok)];
    expect(b.refusesNow()).toEqual(false);
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    expect(await both()).toEqual([true, "fast-fail"]);
    advance(59_999);
    expect(await both()).toEqual([true, "fast-fail"]);
    advance(1);
    expect(await both()).toEqual([false, "ok"]); // the half-open probe, which closes it
    for (let i = 0; i < 3; i++) await outcome(b, fail);
    b.backendRecovered();
    expect(b.refusesNow()).toEqual(false);
    expect(await outcome(b, fail)).toEqual("WorkerUnavailableError"); // the probe: open for 1 s
    advance(999);
    expect(await both()).toEqual([true, "fast-fail"]);
    b.reset();
    expect(await both()).toEqual([false, "ok"]);
  });

  it("refuses with cockatiel's BrokenCircuitError, built without stack frames", () => {
    const { b } = setup();
    const e = b.refusal();
    expect(e).toBeInstanceOf(BrokenCircuitError);
    expect(e.message).toEqual("Execution prevented because the circuit breaker is open");
    expect(e.stack?.split("\n").filter((l) => l.trim().startsWith("at "))).toEqual([]);
    expect(new Error("x").stack).toContain("    at "); // the global limit is restored
  });
});
