import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import {
  ArrivalSchedule,
  compileLoadPlan,
  intendedTimes,
  mulberry32,
  templatePicker,
  type LoadPlanInput,
} from "../../../harness/load/index.js";

const chat = { kind: "chat" as const };
const plan = (p: Partial<LoadPlanInput>) => compileLoadPlan({ rate: 8, mix: [chat], seed: 1, ...p });

describe("compileLoadPlan / intendedTimes", () => {
  it("constant rate: one request every 1000/rate ms from 0, none on the end instant", () => {
    expect(Array.from(intendedTimes(plan({ rate: 8, duration: 1000 })))).toEqual([
      0, 125, 250, 375, 500, 625, 750, 875,
    ]);
  });

  it("steps: each stage at its own rate, the boundary arrival belonging to the new stage", () => {
    const p = plan({
      rate: 4,
      stages: [
        { duration: 1000, rate: 4 },
        { duration: 1000, rate: 8 },
      ],
    });
    expect(p.durationMs).toBe(2000);
    expect(p.expectedRequests).toBe(12);
    expect(p.peakRate).toBe(8);
    expect(Array.from(intendedTimes(p))).toEqual([
      0, 250, 500, 750, 1000, 1125, 1250, 1375, 1500, 1625, 1750, 1875,
    ]);
  });

  it("linear ramp 0 -> 10 req/s over 2 s: k-th request where 2.5 t^2 = k (t in s)", () => {
    const p = plan({
      rate: 1,
      stages: [
        { duration: 0, rate: 0 },
        { duration: 2000, rate: 10, ramp: true },
      ],
    });
    const times = Array.from(intendedTimes(p));
    const expected = Array.from({ length: 10 }, (_, k) => 1000 * Math.sqrt(k / 2.5));
    expect(times.length).toBe(10);
    times.forEach((t, k) => expect(t).toBeCloseTo(expected[k], 6));
  });

  it("a ramp starts from the base rate; duration past the stages holds the last rate", () => {
    const p = plan({ rate: 4, duration: 2000, stages: [{ duration: 1000, rate: 12, ramp: true }] });
    expect(p.segments).toEqual([
      { startMs: 0, endMs: 1000, r0: 4, r1: 12 },
      { startMs: 1000, endMs: 2000, r0: 12, r1: 12 },
    ]);
    expect(p.expectedRequests).toBe(8 + 12);
  });

  it("duration shorter than the stages cuts the last one (a cut ramp ends at its rate then)", () => {
    const p = plan({
      rate: 10,
      duration: 1500,
      stages: [
        { duration: 1000, rate: 10 },
        { duration: 1000, rate: 30, ramp: true },
      ],
    });
    expect(p.segments).toEqual([
      { startMs: 0, endMs: 1000, r0: 10, r1: 10 },
      { startMs: 1000, endMs: 1500, r0: 10, r1: 20 },
    ]);
  });

  it("reports every invalid field at once, with its path", () => {
    let err: unknown;
    try {
      compileLoadPlan({ rate: -1, mix: [], seed: 1.5, stages: [{ duration: 1000, rate: Number.NaN }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).issues.map((i) => i.path)).toEqual([
      "load.rate",
      "load.stages[0].rate",
      "load.mix",
      "seed",
    ]);
  });

  it("requires a duration when there are no stages", () => {
    expect(() => compileLoadPlan({ rate: 5, mix: [chat], seed: 1 })).toThrow(
      'load.duration: required when there are no stages (fix: add duration: "60s")',
    );
  });
});

describe("Poisson arrivals and the request mix are deterministic for a seed", () => {
  it("same seed, same times; another seed, other times; the count is near rate x duration", () => {
    const a = intendedTimes(plan({ rate: 100, duration: 100_000, arrivals: "poisson", seed: 3 }));
    const b = intendedTimes(plan({ rate: 100, duration: 100_000, arrivals: "poisson", seed: 3 }));
    const c = intendedTimes(plan({ rate: 100, duration: 100_000, arrivals: "poisson", seed: 4 }));
    expect(b).toEqual(a);
    expect(c[5]).not.toBe(a[5]);
    // Poisson count with mean 10,000 has sd 100; 400 is 4 sd.
    expect(Math.abs(a.length - 10_000)).toBeLessThan(400);
  });

  it("picks templates by weight from its own stream", () => {
    const p = plan({
      mix: [
        { kind: "chat", weight: 3 },
        { kind: "embedding", weight: 1 },
      ],
      seed: 9,
      duration: 1000,
    });
    const pick1 = templatePicker(p);
    const pick2 = templatePicker(p);
    const seq = Array.from({ length: 4000 }, () => pick1());
    expect(Array.from({ length: 4000 }, () => pick2())).toEqual(seq);
    // Binomial(4000, 0.75): sd 27; 110 is 4 sd.
    expect(Math.abs(seq.filter((x) => x === 0).length - 3000)).toBeLessThan(110);
  });

  it("mulberry32 is the published sequence for seed 0", () => {
    const r = mulberry32(0);
    expect([r(), r(), r()].map((x) => Math.floor(x * 2 ** 32))).toEqual([1144304738, 1416247, 958946056]);
  });
});

describe("ArrivalSchedule.setRateMultiplier", () => {
  it("re-times the held arrival from the change on, keeping credit already accrued", () => {
    const s = new ArrivalSchedule(plan({ rate: 10, duration: 2000 }));
    expect([s.next(), s.next(), s.next(), s.next()]).toEqual([0, 100, 200, 300]);
    // At 250 ms half of the 200 -> 300 gap has accrued; the other half at 20 req/s takes 25 ms.
    expect(s.setRateMultiplier(2, 250)).toBe(275);
    expect([s.next(), s.next()]).toEqual([325, 375]);
    expect(s.rateMultiplier).toBe(2);
    let n = 6;
    while (s.next() !== undefined) n++;
    // 275 + 50 k < 2000 for k = 0..34: 35 arrivals from 275 on, plus 0, 100, 200.
    expect(n).toBe(38);
  });

  it("withdraws the held arrival when a slowdown pushes it past the end", () => {
    const s = new ArrivalSchedule(plan({ rate: 10, duration: 1000 }));
    for (let i = 0; i < 10; i++) s.next(); // last one at 900
    expect(s.setRateMultiplier(0.1, 850)).toBe(Number.POSITIVE_INFINITY);
    expect(s.next()).toBe(undefined);
    expect(s.count).toBe(9);
  });

  it("refuses a non-positive multiplier", () => {
    expect(() => new ArrivalSchedule(plan({ duration: 1000 })).setRateMultiplier(0, 0)).toThrow(
      "rate multiplier must be a finite number > 0, got 0",
    );
  });
});

describe("a parsed scenario load block compiles as is", () => {
  it("accepts loadSchema's output (durations in ms, defaults applied)", async () => {
    const { loadSchema } = await import("../../../harness/scenario/schema.js");
    const spec = loadSchema.parse({
      rate: 4,
      stages: [
        { duration: "1s", rate: 4 },
        { duration: "1s", rate: 8 },
      ],
      mix: [
        { kind: "chat", stream: true },
        { kind: "http", path: "/health", weight: 2 },
      ],
      arrivals: "constant",
    });
    const p = compileLoadPlan({ ...spec, seed: 5 });
    expect(Array.from(intendedTimes(p))).toEqual([
      0, 250, 500, 750, 1000, 1125, 1250, 1375, 1500, 1625, 1750, 1875,
    ]);
    expect(p.mix.map((t) => t.kind)).toEqual(["chat", "http"]);
  });
});
