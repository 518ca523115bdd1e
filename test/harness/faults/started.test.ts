import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCleanup } from "../../../harness/faults/cleanup.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { isSameProcess, readProcStat } from "../../../harness/faults/proc.js";
import { StartedJournal, STARTED_PREFIX, type StartedEntry } from "../../../harness/faults/started.js";

/**
 * What a run started is journalled beside its faults, and `faultline cleanup` stops it from
 * the entry alone (real processes, real signals).
 */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A shell leading its own process group, with a `sleep` child in that group; both pids. */
async function group(): Promise<{ leader: number; member: number }> {
  const c = spawn("sh", ["-c", "sleep 60 & echo $!; wait"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(c);
  const member = await new Promise<number>((resolve) =>
    c.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
  );
  return { leader: c.pid!, member };
}

async function startTimeOf(pid: number): Promise<number> {
  return (await readProcStat(pid))!.startTime;
}

describe("started-process journal and cleanup", () => {
  it("cleanup stops a recorded process group (leader and member), clears the entry, and a second cleanup finds nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    const g = await group();
    const [leaderStart, memberStart] = [await startTimeOf(g.leader), await startTimeOf(g.member)];
    await new StartedJournal(dir).recordProcess("test group", g.leader, true);
    expect((await readdir(dir)).filter((n) => n.startsWith(STARTED_PREFIX))).toHaveLength(1);
    // The fault journal does not read started entries as (unreadable) faults.
    expect(await new FaultJournal(dir).list()).toEqual([]);

    const first = await runCleanup({ journalDir: dir });
    expect(first.items.map((i) => [i.action, i.kind, i.target])).toEqual([
      ["stopped", "started process", "test group"],
    ]);
    expect(await isSameProcess(g.leader, leaderStart)).toBe(false);
    expect(await isSameProcess(g.member, memberStart)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
    expect((await runCleanup({ journalDir: dir })).items).toEqual([]);
  });

  it("a group whose leader already exited: the members left in it are still stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    const g = await group();
    const memberStart = await startTimeOf(g.member);
    await new StartedJournal(dir).recordProcess("orphaned group", g.leader, true);
    process.kill(g.leader, "SIGKILL");
    const deadline = Date.now() + 5000;
    while ((await readProcStat(g.leader)) !== null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await isSameProcess(g.member, memberStart)).toBe(true);

    const r = await runCleanup({ journalDir: dir });
    expect(r.items.map((i) => i.action)).toEqual(["stopped"]);
    expect(await isSameProcess(g.member, memberStart)).toBe(false);
  });

  it("a process that already exited: the entry is cleared as already-gone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    const c = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(c);
    await new StartedJournal(dir).recordProcess("short-lived", c.pid!, false);
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
    const r = await runCleanup({ journalDir: dir });
    expect(r.items.map((i) => [i.action, i.description])).toEqual([["already-gone", `pid ${c.pid}`]]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("an entry whose harness is still running is left alone unless forced", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    const harness = spawn("sleep", ["60"], { stdio: "ignore" });
    const started = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(harness, started);
    await new Promise((r) => setTimeout(r, 50));
    const entry: StartedEntry = {
      version: 1,
      id: "live-harness",
      what: "held by a live harness",
      resource: {
        type: "process",
        pid: started.pid!,
        startTime: await startTimeOf(started.pid!),
        pgid: null,
      },
      harnessPid: harness.pid!,
      harnessStartTime: await startTimeOf(harness.pid!),
      createdAtMs: Date.now(),
    };
    await writeFile(join(dir, `${STARTED_PREFIX}live-harness.json`), JSON.stringify(entry));

    const kept = await runCleanup({ journalDir: dir });
    expect(kept.items.map((i) => [i.action, i.error])).toEqual([
      ["skipped-live", `harness pid ${harness.pid} is still running`],
    ]);
    expect(
      await isSameProcess(started.pid!, entry.resource.type === "process" ? entry.resource.startTime : 0),
    ).toBe(true);

    const forced = await runCleanup({ journalDir: dir, force: true });
    expect(forced.items.map((i) => i.action)).toEqual(["stopped"]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("a file a dead run left (its requests spill) is removed; one already gone clears as already-gone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    const spill = join(dir, "requests.bin.123.spill");
    await writeFile(spill, "rows");
    const journal = new StartedJournal(dir);
    await journal.record("requests spill of run r", { type: "file", path: spill });
    await journal.record("requests spill of run q", { type: "file", path: join(dir, "never-written.spill") });
    const r = await runCleanup({ journalDir: dir });
    expect(r.items.map((i) => [i.action, i.kind, i.description]).sort()).toEqual([
      ["already-gone", "started file", join(dir, "never-written.spill")],
      ["stopped", "started file", spill],
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("an unparsable started entry is reported and kept", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-started-"));
    await writeFile(join(dir, `${STARTED_PREFIX}bad.json`), "{not json");
    const r = await runCleanup({ journalDir: dir });
    expect(r.items.map((i) => i.action)).toEqual(["unreadable"]);
    expect(await readdir(dir)).toEqual([`${STARTED_PREFIX}bad.json`]);
  });
});
