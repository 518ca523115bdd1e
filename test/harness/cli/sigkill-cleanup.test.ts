import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { readProcStat, isSameProcess } from "../../../harness/faults/proc.js";
import { StartedJournal } from "../../../harness/faults/started.js";
import { skipWithoutHaproxy } from "../targets/haproxy-gate.js";
import { spawnCli, spawnCliProcess } from "./helpers.js";

/**
 * `faultline run` SIGKILLed mid-fault, once per carrier of a fault (a target process, the
 * embedded Toxiproxy, HAProxy, a command target), then `faultline cleanup`: no process the
 * run started is left, no journal entry, exit 0, and a second cleanup finds nothing. The
 * real CLI, real processes, real signals.
 */
const LOAD =
  "load: { rate: 5, duration: 60s, deadline: 2s, mix: [{ kind: chat, model: sim-utility, maxTokens: 4, weight: 1 }] }";

interface Started {
  readonly pid: number;
  readonly startTime: number;
  readonly what: string;
}

/** Every process of the recorded ones (and of the groups they lead) that still runs. */
async function survivors(started: readonly Started[]): Promise<string[]> {
  const left: string[] = [];
  const all = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const stats = (await Promise.all(all.map((p) => readProcStat(p)))).filter(
    (s) => s !== null && s.state !== "Z",
  );
  for (const s of started) {
    if (await isSameProcess(s.pid, s.startTime)) left.push(`${s.what} (pid ${s.pid})`);
    for (const m of stats)
      if (m!.pgid === s.pid && m!.pid !== s.pid) left.push(`${s.what}: group member pid ${m!.pid}`);
  }
  return left;
}

async function killMidFaultThenCleanup(
  name: string,
  target: string,
  fault: string,
): Promise<{ cleanup: string; leftBeforeCleanup: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), `faultline-sigkill-${name}-`));
  const journalDir = join(dir, "journal");
  await writeFile(
    join(dir, "s.yaml"),
    [
      `name: sigkill-${name}`,
      "seed: 1",
      target,
      LOAD,
      "faults:",
      `  - ${fault}`,
      "slos: [{ kind: availability, min: 0.5, level: answered }]",
      "",
    ].join("\n"),
  );
  const env = { FAULTLINE_JOURNAL_DIR: journalDir };
  const child = spawnCliProcess(["run", "s.yaml", "--runs-dir", "runs", "--no-reports"], { cwd: dir, env });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  // Killed once the fault is in effect: its journal entry is active.
  const deadline = Date.now() + 60_000;
  const journal = new FaultJournal(journalDir);
  while (!(await journal.list()).some((r) => r.ok && r.entry.phase === "active")) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`no fault became active:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const started: Started[] = [];
  for (const r of await new StartedJournal(journalDir).list()) {
    if (r.ok && r.entry.resource.type === "process")
      started.push({ pid: r.entry.resource.pid, startTime: r.entry.resource.startTime, what: r.entry.what });
  }
  expect(started.length).toBeGreaterThan(0);
  child.kill("SIGKILL");
  await exited;
  await new Promise((r) => setTimeout(r, 1000)); // what exits on its own has had time to
  const leftBeforeCleanup = await survivors(started);

  const first = await spawnCli(["cleanup"], { cwd: dir, env, timeoutMs: 60_000 });
  expect(first.code, first.stderr).toBe(0);
  expect(await survivors(started)).toEqual([]);
  expect(await readdir(journalDir)).toEqual([]);
  // The killed run's requests spill went with it.
  const runFiles = (await readdir(join(dir, "runs"), { recursive: true })).map(String);
  expect(runFiles.filter((f) => f.endsWith(".spill"))).toEqual([]);
  const second = await spawnCli(["cleanup"], { cwd: dir, env, timeoutMs: 30_000 });
  expect(second.code).toBe(0);
  expect(second.stderr).toContain("cleanup: nothing to revert");
  return { cleanup: first.stderr, leftBeforeCleanup };
}

describe("faultline cleanup after a SIGKILLed run, per carrier", () => {
  it(
    "a frozen reference worker: the fault is reverted and the API and worker are gone",
    { timeout: 120_000 },
    async () => {
      const r = await killMidFaultThenCleanup(
        "process",
        "target: { kind: reference }",
        "{ id: freeze, kind: process-freeze, target: worker, at: 1s, duration: 50s }",
      );
      expect(r.cleanup).toMatch(/cleanup: (reverted|carrier-gone): process-freeze on worker/);
    },
  );

  it(
    "an embedded-Toxiproxy toxic: its proxy died with the harness, so the entry clears as carrier-gone",
    { timeout: 120_000 },
    async () => {
      const r = await killMidFaultThenCleanup(
        "toxiproxy",
        "target: { kind: reference }",
        '{ id: slow, kind: net-latency, target: "link:client-api", at: 1s, duration: 50s, params: { latency: 100 } }',
      );
      expect(r.cleanup).toContain("cleanup: carrier-gone: net-latency");
    },
  );

  it.skipIf(skipWithoutHaproxy)(
    "a frozen HAProxy in front of two replicas: thawed, then stopped with the replicas",
    { timeout: 120_000 },
    async () => {
      const r = await killMidFaultThenCleanup(
        "haproxy",
        "target: { kind: reference, replicas: 2 }",
        "{ id: lb, kind: lb-outage, target: lb, at: 1s, duration: 50s, params: { mode: freeze } }",
      );
      expect(r.cleanup).toContain("cleanup: reverted: lb-outage on lb");
      // The frozen HAProxy outlived the harness: only cleanup could end it.
      expect(r.leftBeforeCleanup.some((w) => w.startsWith("haproxy"))).toBe(true);
      // Frozen, HAProxy could not act on its parent-death SIGTERM until the revert thawed it;
      // then it exits on that pending signal, or cleanup stops it.
      expect(r.cleanup).toMatch(/cleanup: (stopped|already-gone): started process on haproxy/);
    },
  );

  it("a frozen command target: thawed and stopped with its process group", { timeout: 120_000 }, async () => {
    const server = `require("node:http").createServer((q, s) => s.end("{}")).listen(Number(process.env.PORT), "127.0.0.1")`;
    const port = 20_000 + (process.pid % 20_000);
    const r = await killMidFaultThenCleanup(
      "command",
      [
        "target:",
        "  kind: command",
        `  cmd: ${JSON.stringify(process.execPath)}`,
        `  args: ["-e", ${JSON.stringify(server)}]`,
        `  env: { PORT: "${port}" }`,
        `  readyUrl: http://127.0.0.1:${port}/`,
      ].join("\n"),
      "{ id: freeze, kind: process-freeze, target: command, at: 1s, duration: 50s }",
    );
    expect(r.cleanup).toContain("cleanup: reverted: process-freeze on command");
    // Thawed by the revert, it acts on its pending parent-death SIGTERM, or cleanup stops it.
    expect(r.cleanup).toMatch(/cleanup: (stopped|already-gone): started process on command target/);
  });
});
