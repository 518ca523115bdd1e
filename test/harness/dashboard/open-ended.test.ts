import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import type { Runtime } from "../../../common/runtime.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import type { RunRecord } from "../../../harness/record/schema.js";
import { Progress } from "../../../harness/runner/progress.js";
import { runScenario } from "../../../harness/runner/run-scenario.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import { startLocalTarget, type LocalTarget } from "./fixtures/local-target.js";

/**
 * The runner's openEnded option (what `faultline gameday` runs on), in-process against a local
 * target on port 0 at 20 req/s: the file's 1 s of load with a load-burst at 0.5 s, then no
 * planned end until the interrupt or the bound. Times asserted are read from the record itself.
 */
let target: LocalTarget;
let dir = "";
beforeAll(async () => {
  target = await startLocalTarget();
  dir = await mkdtemp(join(tmpdir(), "faultline-open-ended-"));
});
afterAll(async () => {
  await target.close();
  await rm(dir, { recursive: true, force: true });
});

function scenario(burst: boolean) {
  const yaml = `name: open-ended
target: { kind: url, baseUrl: "${target.url}" }
load: { rate: 20, duration: 1s, deadline: 2s, mix: [{ kind: http, path: /work }] }
steadyState:
  after: [{ kind: http, url: /health/ready, status: 200 }]
${burst ? "faults:\n  - { id: burst, kind: load-burst, target: load, at: 500ms, duration: 500ms, params: { multiplier: 2 } }\n" : ""}slos: [{ id: avail, kind: availability, min: 0.99 }]
`;
  const parsed = parseScenario(yaml, "open-ended.yaml", FAULT_KINDS);
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.value;
}

const rt = (): Runtime => ({
  clock: systemClock,
  env: {},
  cwd: dir,
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stdin: new PassThrough(),
  onSignal: () => () => undefined,
});

async function session(
  name: string,
  opts: { interruptAfterMs: number | null; aborted: boolean; maxDurationMs: number; burst?: boolean },
): Promise<{ record: RunRecord; journal: string[] }> {
  const interrupt = new AbortController();
  const timer =
    opts.interruptAfterMs === null
      ? null
      : // The dashboard's keys, as gameday.ts passes them on.
        setTimeout(() => interrupt.abort(new Error(opts.aborted ? "a" : "q")), opts.interruptAfterMs);
  const journalDir = join(dir, name, "journal");
  try {
    const { record } = await runScenario(scenario(opts.burst ?? true), {
      rt: rt(),
      version: "test",
      runsDir: join(dir, name, "runs"),
      journalDir,
      progress: new Progress(() => undefined, false),
      interrupt: interrupt.signal,
      openEnded: { maxDurationMs: opts.maxDurationMs, aborted: () => opts.aborted },
    });
    return { record, journal: await readdir(journalDir).catch(() => []) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** "game day (no planned end): ran 2.513s" -> 2513 */
function ranMs(record: RunRecord): number {
  const m = /^game day \(no planned end\): ran (\d+(?:\.\d+)?)s$/.exec(record.statusReason ?? "");
  if (!m?.[1]) throw new Error(`unexpected statusReason: ${record.statusReason}`);
  return Math.round(Number(m[1]) * 1000);
}

describe("runScenario with openEnded (no planned end)", { timeout: 60_000 }, () => {
  it("runs past the file's load until the interrupt, which ends it normally: completed, judged over the time that ran", async () => {
    const { record, journal } = await session("stop", {
      interruptAfterMs: 2500,
      aborted: false,
      maxDurationMs: 60_000,
    });
    expect([record.status, record.verdict]).toEqual(["completed", "pass"]);
    const ran = ranMs(record);
    // The interrupt came 2.5 s after the run started: past the file's 1 s, far short of the bound.
    expect(ran).toBeGreaterThan(1000);
    expect(ran).toBeLessThan(60_000);
    expect(record.windows).toHaveLength(Math.ceil(ran / 1000));
    expect((record.scenario.source as { load: { duration: number } }).load.duration).toBe(60_000);
    expect(record.steadyState.after.map((c) => c.passed)).toEqual([true]);
    expect(record.faults.map((f) => [f.id, f.injectedAtMs !== null, f.revertedAtMs !== null])).toEqual([
      ["burst", true, true],
    ]);
    expect(journal).toEqual([]);
  });

  it("an abort (the a key) stays an abort: aborted, no after-checks", async () => {
    const { record, journal } = await session("abort", {
      interruptAfterMs: 1500,
      aborted: true,
      maxDurationMs: 60_000,
    });
    expect([record.status, record.verdict, record.statusReason]).toEqual([
      "aborted",
      "aborted",
      "aborted from the dashboard (a); faults rolled back",
    ]);
    expect(record.steadyState.after).toEqual([]);
    // Judged over the ~1.5 s that ran (2 windows, 3 if the timer fired late), never the 60 s bound.
    expect(record.windows.length).toBeLessThan(4);
    expect(journal).toEqual([]);
  });

  it("the bound ends it when nobody does: completed after exactly maxDurationMs of load", async () => {
    const { record } = await session("bound", {
      interruptAfterMs: null,
      aborted: false,
      maxDurationMs: 2000,
      burst: false,
    });
    expect([record.status, record.verdict, record.statusReason]).toEqual([
      "completed",
      "pass",
      "game day (no planned end): ran 2s",
    ]);
    // Constant arrivals at 20 req/s (no burst here): sends at 0, 50, ..., 1950 ms, 20 per window.
    expect(record.windows.map((w) => w.counts.ok)).toEqual([20, 20]);
    expect(record.totals.ok).toBe(40);
  });
});
