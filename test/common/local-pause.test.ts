import { describe, expect, it } from "vitest";
import { ManualClock } from "../../common/clock.js";
import { LocalPauseDetector, pauseThresholdMs } from "../../common/local-pause.js";

describe("LocalPauseDetector", () => {
  it("counts a heartbeat's age from the heartbeat while the watchdog keeps ticking", () => {
    const clock = new ManualClock(10_000);
    const d = new LocalPauseDetector(clock, 500);
    for (let i = 0; i < 10; i++) {
      expect(d.tick()).toBe(false);
      clock.advance(100);
    }
    expect(d.staleFor(9_500)).toBe(1_500);
    expect(d.watchedSince(0)).toBe(1_000);
  });

  it("counts from the resumption after a pass more than the threshold late", () => {
    const clock = new ManualClock(10_000);
    const d = new LocalPauseDetector(clock, 500);
    d.tick();
    clock.advance(500);
    expect(d.tick()).toBe(false); // exactly the threshold: not a pause
    clock.freeze(5_000);
    expect(d.tick()).toBe(true); // resumed at 15_500 (monotonic 5_500)
    expect(d.staleFor(10_000)).toBe(0);
    clock.advance(300);
    expect(d.staleFor(10_000)).toBe(300);
    expect(d.staleFor(15_700)).toBe(100); // a heartbeat after the resumption counts from itself
    expect(d.watchedSince(0)).toBe(300);
    expect(d.watchedSince(5_600)).toBe(200);
  });

  it("is never negative for a heartbeat stamped ahead of the clock", () => {
    const clock = new ManualClock(10_000);
    const d = new LocalPauseDetector(clock, 500);
    d.tick();
    expect(d.staleFor(10_050)).toBe(0);
  });
});

describe("LocalPauseDetector between a freeze and the next tick", () => {
  it("answers 0 while its last tick is older than the threshold (frozen mid-pass)", () => {
    const clock = new ManualClock(10_000);
    const d = new LocalPauseDetector(clock, 500);
    d.tick(); // a pass starts and awaits its heartbeat read ...
    clock.freeze(5_000); // ... the container freezes, the read completes after the unpause
    expect(d.staleFor(9_000)).toBe(0);
    expect(d.watchedSince(0)).toBe(0);
    clock.advance(100);
    expect(d.tick()).toBe(true); // the next pass records the resumption at 15_100
    clock.advance(200);
    expect(d.staleFor(9_000)).toBe(200);
  });
});

describe("pauseThresholdMs", () => {
  it("is five of the watchdog's pass intervals, at most its verdict bound", () => {
    expect(pauseThresholdMs(50, 1000)).toBe(250); // the API's heartbeat monitor, defaults
    expect(pauseThresholdMs(50, 2000)).toBe(250); // the supervisor, defaults
    expect(pauseThresholdMs(100, 300)).toBe(300);
  });
});
