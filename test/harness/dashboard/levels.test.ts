import { describe, expect, it } from "vitest";
import { emptyCounts, type OutcomeCounts } from "../../../common/outcome.js";
import { liveFaultTimes, uptimeView } from "../../../harness/dashboard/levels.js";
import type { SecondCounts } from "../../../harness/load/index.js";

const sec = (second: number, c: Partial<OutcomeCounts>): SecondCounts => ({
  second,
  counts: { ...emptyCounts(), ...c },
});

/** 10 req/s: a kill at 4.5 s; errors in second 4, fallbacks in 5-6, the model back from 7. */
const SECONDS = [
  sec(0, { ok: 10 }),
  sec(1, { ok: 10 }),
  sec(2, { ok: 10 }),
  sec(3, { ok: 10 }),
  sec(4, { ok: 5, error: 5 }),
  sec(5, { degraded: 10 }),
  sec(6, { ok: 2, degraded: 8 }),
  sec(7, { ok: 10 }),
];

describe("dashboard levels (whole seconds)", () => {
  it("uptime at both levels from the same seconds", () => {
    // Answered: second 4 is down (5/10) -> 7/8; full: 4, 5 and 6 are down -> 5/8.
    expect(uptimeView(SECONDS, 1000, 0.99)).toEqual({
      answered: 7 / 8,
      full: 5 / 8,
      windowMs: 1000,
      threshold: 0.99,
    });
    // 2 s windows merge seconds: [4,5] and [6,7] are down at full, only [4,5] when answered.
    expect(uptimeView(SECONDS, 2000, 0.99)).toMatchObject({ answered: 3 / 4, full: 2 / 4 });
    expect(uptimeView([], 1000, 0.99)).toMatchObject({ answered: null, full: null });
  });

  it("a fault's signal, answer-again and full-service times as upper bounds at one-second steps", () => {
    // Signal: fallbacks in second 5 (ends at 6 s) -> <= 1.5 s after 4.5 s. Answered again:
    // second 5 is all good -> <= 1.5 s. Full: second 7 is all ok -> <= 3.5 s.
    expect(liveFaultTimes(SECONDS, { id: "kill", startMs: 4500, endMs: null })).toEqual({
      id: "kill",
      signalMs: 1500,
      answeredMs: 1500,
      fullMs: 3500,
    });
    // A fault whose window ended at 6.2 s: counted from its end; no later signal is needed.
    expect(liveFaultTimes(SECONDS, { id: "x", startMs: 7000, endMs: 7100 })).toEqual({
      id: "x",
      signalMs: null,
      answeredMs: 900,
      fullMs: 900,
    });
  });
});
