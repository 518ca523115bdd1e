import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { RestartPolicy } from "../../../reference-service/supervisor/restart-policy.js";

const options = {
  backoffInitialMs: 100,
  backoffMaxMs: 1000,
  backoffMultiplier: 2,
  cooldownMs: 5000,
  budgetRestarts: 4,
  budgetWindowMs: 10_000,
};

describe("RestartPolicy", () => {
  it("backs off exponentially, capped, then gives up past the budget", () => {
    const clock = new ManualClock();
    const p = new RestartPolicy({ ...options, budgetRestarts: 6 }, clock);
    const delays: unknown[] = [];
    for (let i = 0; i < 7; i++) {
      p.started();
      clock.advance(10); // each worker dies 10 ms after it started
      const d = p.decide();
      delays.push(d.action === "restart" ? d.delayMs : d.action);
      if (d.action === "restart") clock.advance(d.delayMs);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, "give-up"]);
  });

  it("with firstRestartImmediate, restarts at once and backs off from the second restart", () => {
    const clock = new ManualClock();
    const p = new RestartPolicy({ ...options, budgetRestarts: 10, firstRestartImmediate: true }, clock);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      p.started();
      const d = p.decide();
      if (d.action === "restart") delays.push(d.delayMs);
    }
    expect(delays).toEqual([0, 100, 200, 400, 800]);
    p.started();
    clock.advance(5000); // a healthy run: the sequence starts over
    expect(p.decide()).toEqual({ action: "restart", delayMs: 0, attempt: 1 });
  });

  it("gives up with a reason naming the budget", () => {
    const clock = new ManualClock();
    const p = new RestartPolicy(options, clock);
    for (let i = 0; i < 4; i++) expect(p.decide().action).toEqual("restart");
    expect(p.restartsInWindow).toEqual(4);
    expect(p.decide()).toEqual({ action: "give-up", reason: "restart budget spent: 4 restarts in 10000 ms" });
  });

  it("forgets restarts older than the budget window", () => {
    const clock = new ManualClock();
    const p = new RestartPolicy(options, clock);
    for (let i = 0; i < 4; i++) p.decide(); // at t=0
    clock.advance(9_999);
    expect(p.decide().action).toEqual("give-up");
    clock.advance(1); // t=10000: the four restarts at t=0 fall out of the window
    expect(p.restartsInWindow).toEqual(0);
    expect(p.decide()).toEqual({ action: "restart", delayMs: 1000, attempt: 5 });
  });

  it("starts the backoff over after a worker stayed up for the cooldown", () => {
    const clock = new ManualClock();
    const p = new RestartPolicy(options, clock);
    p.started();
    expect(p.decide()).toEqual({ action: "restart", delayMs: 100, attempt: 1 });
    p.started();
    clock.advance(4_999);
    expect(p.decide()).toEqual({ action: "restart", delayMs: 200, attempt: 2 });
    p.started();
    clock.advance(5_000);
    expect(p.decide()).toEqual({ action: "restart", delayMs: 100, attempt: 1 });
  });
});
