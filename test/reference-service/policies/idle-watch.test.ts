import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { BackendTimeoutError } from "../../../reference-service/backend-errors.js";
import { AttemptIdleWatch } from "../../../reference-service/policies/idle-watch.js";

describe("AttemptIdleWatch", () => {
  it("aborts exactly idleMs after the last event, however many events came before", async () => {
    const clock = new ManualClock();
    const watch = new AttemptIdleWatch(clock, 1000, new AbortController().signal);
    await clock.advanceAsync(600);
    watch.touch(); // at 600
    await clock.advanceAsync(900);
    watch.touch(); // at 1500
    await clock.advanceAsync(999); // 2499: 999 ms quiet
    expect(watch.signal.aborted).toEqual(false);
    await clock.advanceAsync(1); // 2500: 1000 ms quiet
    expect(watch.signal.aborted).toEqual(true);
    expect(watch.expired).toBeInstanceOf(BackendTimeoutError);
    expect(watch.expired?.message).toEqual("the model sent nothing for 1000 ms (attemptIdleTimeoutMs 1000)");
    watch.dispose();
  });

  it("passes the outer abort through with its own reason, and is then not an idle timeout", () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const watch = new AttemptIdleWatch(clock, 1000, outer.signal);
    const why = new Error("client left");
    outer.abort(why);
    expect(watch.signal.reason).toBe(why);
    expect(watch.expired).toEqual(undefined);
    watch.dispose();
  });

  it("dispose stops the timer: an attempt that ended never aborts later", async () => {
    const clock = new ManualClock();
    const watch = new AttemptIdleWatch(clock, 1000, new AbortController().signal);
    watch.dispose();
    await clock.advanceAsync(5000);
    expect(watch.signal.aborted).toEqual(false);
  });
});
