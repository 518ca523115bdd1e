import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ManualClock } from "../../../common/clock.js";
import { InvalidInputError } from "../../../common/errors.js";
import type { Injector } from "../../../harness/faults/injector.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { FaultScheduler, expandTimeline } from "../../../harness/faults/scheduler.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { Sandbox } from "./helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

/** A test kind that logs its calls with the clock's time; the scheduler is the unit under test. */
function recorder(journal: () => FaultJournal) {
  const log: string[] = [];
  const control = { failRevert: false };
  const hold: Injector<{ n: number }, { n: number }> = {
    kind: "hold",
    summary: "test",
    params: z.strictObject({ n: z.number().default(0) }),
    targets: ["worker"],
    isInstant: () => false,
    describe: (p) => `hold ${p.n}`,
    async inject(p, ctx) {
      const entries = await journal().list();
      const mine = entries.find((e) => e.ok && e.entry.occurrenceId === ctx.occurrenceId);
      log.push(`inject ${p.n} @${ctx.clock.now()} journal=${mine?.ok ? mine.entry.phase : "none"}`);
      return { n: p.n };
    },
    revert(s, ctx) {
      if (control.failRevert) return Promise.reject(new Error("proxy unreachable"));
      log.push(`revert ${s.n} @${ctx.clock.now()}`);
      return Promise.resolve();
    },
  };
  const boom: Injector<Record<string, never>, null> = {
    kind: "boom",
    summary: "test",
    params: z.strictObject({}),
    targets: ["worker"],
    isInstant: () => true,
    describe: () => "boom",
    inject: () => Promise.reject(new Error("target said no")),
    revert: () => Promise.resolve(),
  };
  return { log, control, registry: { hold, boom } };
}

async function setup() {
  const dir = await sandbox.tempDir();
  const journal = new FaultJournal(join(dir, "journal"));
  const clock = new ManualClock(0);
  const rec = recorder(() => journal);
  const make = (faults: ConstructorParameters<typeof FaultScheduler>[0]) =>
    new FaultScheduler(faults, { clock, journal, targets: { worker: {} }, seed: 7, registry: rec.registry });
  return { dir, journal, clock, log: rec.log, control: rec.control, make };
}

const step = async (clock: ManualClock, s: FaultScheduler, ms: number) => {
  await clock.advanceAsync(ms);
  await s.settled();
};

describe("FaultScheduler on a ManualClock", () => {
  it("injects at start and reverts at start + duration, journaling pending before the effect", async () => {
    const { clock, log, make, journal } = await setup();
    const s = make([
      { id: "f", kind: "hold", target: "worker", params: { n: 1 }, startMs: 1000, durationMs: 2000 },
    ]);
    s.start();
    await step(clock, s, 999);
    expect(log).toEqual([]);
    await step(clock, s, 1);
    expect(log).toEqual(["inject 1 @1000 journal=pending"]);
    const [entry] = await journal.list();
    expect(entry?.ok && [entry.entry.phase, entry.entry.revertState]).toEqual(["active", { n: 1 }]);
    await step(clock, s, 2000);
    expect(log).toEqual(["inject 1 @1000 journal=pending", "revert 1 @3000"]);
    expect(await journal.list()).toEqual([]);
    const [o] = s.occurrences();
    expect([
      o?.status,
      o?.injectedAtMs,
      o?.revertedAtMs,
      o?.plannedStartMs,
      o?.plannedEndMs,
      o?.description,
    ]).toEqual(["reverted", 1000, 3000, 1000, 3000, "hold 1"]);
  });

  it("repeats: every occurrence at its own time", async () => {
    const { clock, log, make } = await setup();
    const s = make([
      {
        id: "r",
        kind: "hold",
        target: "worker",
        params: {},
        startMs: 1000,
        durationMs: 500,
        repeat: { everyMs: 2000, times: 3 },
      },
    ]);
    s.start();
    for (let i = 0; i < 12; i++) await step(clock, s, 500);
    expect(log).toEqual([
      "inject 0 @1000 journal=pending",
      "revert 0 @1500",
      "inject 0 @3000 journal=pending",
      "revert 0 @3500",
      "inject 0 @5000 journal=pending",
      "revert 0 @5500",
    ]);
    expect(s.occurrences().map((o) => o.faultId)).toEqual(["r#1", "r#2", "r#3"]);
  });

  it("pause stops timeline time; resume shifts what is left by the pause", async () => {
    const { clock, log, make } = await setup();
    const s = make([
      { id: "p", kind: "hold", target: "worker", params: {}, startMs: 1000, durationMs: 1000 },
    ]);
    s.start();
    await step(clock, s, 500);
    s.pause();
    await step(clock, s, 10_000);
    expect([log, s.now()]).toEqual([[], 500]);
    s.resume();
    await step(clock, s, 499);
    expect(log).toEqual([]);
    await step(clock, s, 1);
    await step(clock, s, 1000);
    expect(log).toEqual(["inject 0 @11000 journal=pending", "revert 0 @12000"]);
  });

  it("revertAll on abort reverts the active fault at once, skips the rest, and is idempotent", async () => {
    const { clock, log, make, journal } = await setup();
    const s = make([
      { id: "a", kind: "hold", target: "worker", params: { n: 1 }, startMs: 1000, durationMs: 5000 },
      { id: "b", kind: "hold", target: "worker", params: { n: 2 }, startMs: 2000, durationMs: 5000 },
    ]);
    s.start();
    // Inject does real file I/O, so the clock stops at its due time until it has settled.
    await step(clock, s, 1000);
    await step(clock, s, 500);
    const first = s.revertAll();
    const second = s.revertAll();
    expect(second).toBe(first);
    expect((await first).reverted.length).toBe(1);
    await step(clock, s, 10_000);
    expect(log).toEqual(["inject 1 @1000 journal=pending", "revert 1 @1500"]);
    expect(s.occurrences().map((o) => o.status)).toEqual(["reverted", "skipped"]);
    expect(await journal.list()).toEqual([]);
    expect(await s.revertAll()).toEqual(await first);
  });

  it("a failing inject is recorded with its error and leaves no journal entry", async () => {
    const { clock, make, journal } = await setup();
    const s = make([{ id: "x", kind: "boom", target: "worker", params: {}, startMs: 0, durationMs: null }]);
    s.start();
    await step(clock, s, 0);
    expect(s.occurrences().map((o) => [o.status, o.error])).toEqual([["failed", "target said no"]]);
    expect(await journal.list()).toEqual([]);
  });

  it("a failing revert is reported, keeps its journal entry for cleanup, and is retried by revertAll", async () => {
    const { clock, make, journal, control } = await setup();
    control.failRevert = true;
    const s = make([
      { id: "h", kind: "hold", target: "worker", params: { n: 3 }, startMs: 0, durationMs: 100 },
    ]);
    s.start();
    await step(clock, s, 0);
    await step(clock, s, 100);
    expect(s.occurrences().map((o) => [o.status, o.revertError])).toEqual([["failed", "proxy unreachable"]]);
    expect((await journal.list()).map((r) => r.ok && r.entry.phase)).toEqual(["active"]);
    control.failRevert = false;
    expect(await s.revertAll()).toEqual({ reverted: [s.occurrences()[0]?.occurrenceId], failed: [] });
    expect(await journal.list()).toEqual([]);
  });

  it("injectNow runs a manual fault at once; revertOne ends it", async () => {
    const { clock, log, make } = await setup();
    const s = make([]);
    s.start();
    await step(clock, s, 4000);
    const o = await s.injectNow("hold", "worker", { n: 9 });
    expect([o.faultId, o.status, o.injectedAtMs, o.manual]).toEqual(["manual-1", "active", 4000, true]);
    await step(clock, s, 250);
    await s.revertOne(o.occurrenceId);
    expect(log).toEqual(["inject 9 @4000 journal=pending", "revert 9 @4250"]);
    await expect(s.injectNow("nope", "worker", {})).rejects.toThrow('kind: unknown fault kind "nope"');
  });

  it("rejects an invalid timeline before anything starts, naming every field", async () => {
    const { make } = await setup();
    let error: unknown;
    try {
      make([
        { id: "a", kind: "hold", target: "gpu", params: { n: "x" }, startMs: 0, durationMs: -5 },
        { id: "b", kind: "nope", target: "worker", params: {}, startMs: 0, durationMs: null },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.path)).toEqual([
      "faults[0].durationMs",
      "faults[0].target",
      "faults[0].params.n",
      "faults[1].kind",
    ]);
  });

  it("expandTimeline names repeats #1..#n", () => {
    const out = expandTimeline([
      {
        id: "k",
        kind: "hold",
        target: "worker",
        params: {},
        startMs: 10,
        durationMs: null,
        repeat: { everyMs: 5, times: 2 },
      },
    ]);
    expect(out.map((f) => [f.id, f.startMs])).toEqual([
      ["k#1", 10],
      ["k#2", 15],
    ]);
  });

  it("drives a real injector: the gpu reservation exists exactly during the window", async () => {
    const { clock, dir } = await setup();
    const journal = new FaultJournal(join(dir, "j2"));
    const stateDir = join(dir, "state");
    const s = new FaultScheduler(
      [{ id: "g", kind: "gpu-oom", target: "gpu", params: { bytes: 100 }, startMs: 1000, durationMs: 1000 }],
      { clock, journal, targets: { gpu: { stateDir } }, seed: 1 },
    );
    s.start();
    await step(clock, s, 1000);
    expect((await readdir(join(stateDir, STATE_FILES.gpuCotenants))).length).toBe(1);
    await step(clock, s, 1000);
    expect(await readdir(join(stateDir, STATE_FILES.gpuCotenants))).toEqual([]);
  });
});
