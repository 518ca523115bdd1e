import { describe, expect, it } from "vitest";
import { ManualClock } from "../../common/clock.js";

describe("ManualClock", () => {
  it("fires timers in due order with now() at each due time", () => {
    const clock = new ManualClock(1000);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(["b", clock.now()]), 20);
    clock.setTimeout(() => {
      seen.push(["a", clock.now()]);
      clock.setTimeout(() => seen.push(["c", clock.now()]), 15);
    }, 10);
    clock.advance(24);
    expect(seen).toEqual([
      ["a", 1010],
      ["b", 1020],
    ]);
    expect(clock.now()).toBe(1024);
    clock.advance(1);
    expect(seen.at(-1)).toEqual(["c", 1025]);
  });

  it("does not fire cleared timers", () => {
    const clock = new ManualClock();
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 5);
    clock.clearTimeout(h);
    clock.advance(10);
    expect(fired).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("sleep resolves on advance and rejects on abort", async () => {
    const clock = new ManualClock();
    const done: string[] = [];
    void clock.sleep(50).then(() => done.push("slept"));
    await clock.advanceAsync(49);
    expect(done).toEqual([]);
    await clock.advanceAsync(1);
    expect(done).toEqual(["slept"]);

    const ac = new AbortController();
    const p = clock.sleep(50, ac.signal);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    expect(clock.pendingTimers).toBe(0);
  });
});
