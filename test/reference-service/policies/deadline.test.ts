import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import {
  DeadlineExceededError,
  DeadlinePolicy,
  type DeadlineState,
} from "../../../reference-service/policies/deadline.js";

/** Runs fn under the policy and hands back the two signals it got, while it waits for `until`. */
function start(policy: DeadlinePolicy, outer: AbortSignal, until: Promise<void>) {
  const seen: { inner?: AbortSignal; deadline?: DeadlineState } = {};
  const done = policy.execute(async (inner, deadline) => {
    seen.inner = inner;
    seen.deadline = deadline;
    await until;
    return "answered";
  }, outer);
  return { seen, done };
}

describe("DeadlinePolicy", () => {
  it("aborts the inner and the deadline signal with DeadlineExceededError at exactly timeoutMs", async () => {
    const clock = new ManualClock(0);
    const { seen, done } = start(
      new DeadlinePolicy(clock, 1000),
      new AbortController().signal,
      Promise.resolve(),
    );
    await clock.advanceAsync(0);
    expect(await done).toEqual("answered");
    const outer = new AbortController();
    let release = (): void => undefined;
    const slow = start(new DeadlinePolicy(clock, 1000), outer.signal, new Promise((r) => (release = r)));
    await clock.advanceAsync(999);
    expect([slow.seen.inner?.aborted, slow.seen.deadline?.aborted]).toEqual([false, false]);
    await clock.advanceAsync(1);
    expect([slow.seen.inner?.aborted, slow.seen.deadline?.aborted]).toEqual([true, true]);
    expect(slow.seen.inner?.reason).toBeInstanceOf(DeadlineExceededError);
    expect(slow.seen.deadline?.reason).toBe(slow.seen.inner?.reason);
    release();
    await slow.done;
    expect(seen.inner?.aborted).toEqual(false); // the first call's timer was cleared when it ended
    expect(getEventListeners(outer.signal, "abort")).toEqual([]);
  });

  it("the caller's abort reaches the inner signal with its reason, not the deadline signal", async () => {
    const clock = new ManualClock(0);
    const outer = new AbortController();
    let release = (): void => undefined;
    const { seen, done } = start(
      new DeadlinePolicy(clock, 1000),
      outer.signal,
      new Promise((r) => (release = r)),
    );
    await clock.advanceAsync(10);
    const why = new Error("client left");
    outer.abort(why);
    expect([seen.inner?.aborted, seen.inner?.reason, seen.deadline?.aborted]).toEqual([true, why, false]);
    release();
    await done;
    await clock.advanceAsync(1000);
    expect(seen.deadline?.aborted).toEqual(false);
  });

  it("a signal aborted before the call gives an inner signal aborted from the start", async () => {
    const clock = new ManualClock(0);
    const outer = new AbortController();
    outer.abort(new Error("gone already"));
    const { seen, done } = start(new DeadlinePolicy(clock, 1000), outer.signal, Promise.resolve());
    await done;
    expect([seen.inner?.aborted, (seen.inner?.reason as Error).message]).toEqual([true, "gone already"]);
  });
});
