import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { once } from "node:events";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { spawnModule } from "../../../common/spawn-module.js";
import { runCleanup } from "../../../harness/faults/cleanup.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { writeStash } from "../../../harness/docker/faults/stash.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { StartedJournal } from "../../../harness/faults/started.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { ensureTestImage, removeLabelled, startServer } from "./fixtures.js";

const RUN = `test-cleanup-${process.pid}`;

describe.skipIf(skipWithoutDocker)("faultline cleanup after a SIGKILLed harness (real engine)", () => {
  let child: ChildProcess | null = null;
  beforeAll(async () => ensureTestImage(docker), 180_000);
  afterAll(async () => {
    child?.kill("SIGKILL");
    await removeLabelled(docker, RUN);
  }, 60_000);

  it("restores the paused container and its memory limit from the journal alone", async () => {
    const c = await startServer(docker, { runLabel: RUN });
    const journalDir = await mkdtemp(join(tmpdir(), "faultline-journal-"));
    child = spawnModule(new URL("./fixtures/hold-faults.js", import.meta.url), [journalDir, c.id], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    while (!out.includes("ready")) {
      if (child.exitCode !== null) throw new Error(`fixture exited ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = await c.inspect();
    expect([held.State.Paused, held.HostConfig.Memory]).toEqual([true, 200 * 1024 * 1024]);

    child.kill("SIGKILL");
    await once(child, "exit");
    child = null;

    const report = await runCleanup({ journalDir, registry: FAULT_KINDS });
    // Newest first: the memory limit was injected after the pause.
    expect(report.items.map((i) => [i.kind, i.action])).toEqual([
      ["container-memory-limit", "reverted"],
      ["container-pause", "reverted"],
    ]);
    const after = await c.inspect();
    expect([
      after.State.Paused,
      after.State.Running,
      after.HostConfig.Memory,
      after.HostConfig.MemorySwap,
    ]).toEqual([false, true, 2 ** 50, 2 ** 50]);
    expect(await readdir(journalDir)).toEqual([]);
    // A second cleanup finds nothing to do.
    expect((await runCleanup({ journalDir, registry: FAULT_KINDS })).items).toEqual([]);
  }, 60_000);

  it("undoes a pause whose inject never returned (pending entry) from the stash", async () => {
    const c = await startServer(docker, { runLabel: RUN });
    const journalDir = await mkdtemp(join(tmpdir(), "faultline-journal-"));
    const occurrenceId = `${RUN}-pending`;
    await new FaultJournal(journalDir).begin({
      occurrenceId,
      faultId: "freeze",
      kind: "container-pause",
      target: "container:svc",
      params: { container: c.id },
      context: { occurrenceId, targetName: "container:svc", stateDir: null, toxiproxy: null, pids: {} },
      createdAtMs: Date.now(),
    });
    // What inject does before it returns: stash the state, then pause. The "harness" dies here.
    await writeStash(occurrenceId, { id: c.id, name: "svc", occurrenceId });
    await c.pause();
    const report = await runCleanup({ journalDir, registry: FAULT_KINDS });
    expect(report.items.map((i) => [i.kind, i.action])).toEqual([["container-pause", "undone-pending"]]);
    expect((await c.inspect()).State.Paused).toBe(false);
  }, 30_000);

  it("undoes a memory limit whose inject never returned, with the original limits from the stash", async () => {
    const c = await startServer(docker, { runLabel: RUN });
    const journalDir = await mkdtemp(join(tmpdir(), "faultline-journal-"));
    const occurrenceId = `${RUN}-pending-mem`;
    await new FaultJournal(journalDir).begin({
      occurrenceId,
      faultId: "squeeze",
      kind: "container-memory-limit",
      target: "container:svc",
      params: { container: c.id, limitMiB: 150 },
      context: { occurrenceId, targetName: "container:svc", stateDir: null, toxiproxy: null, pids: {} },
      createdAtMs: Date.now(),
    });
    await writeStash(occurrenceId, {
      id: c.id,
      name: "svc",
      occurrenceId,
      limitBytes: 150 * 1024 * 1024,
      original: { memory: 512 * 1024 * 1024, memorySwap: 1024 * 1024 * 1024 },
      injectedAtMs: Date.now(),
    });
    await c.update({ Memory: 150 * 1024 * 1024, MemorySwap: 150 * 1024 * 1024 });
    const report = await runCleanup({ journalDir, registry: FAULT_KINDS });
    expect(report.items.map((i) => [i.kind, i.action])).toEqual([
      ["container-memory-limit", "undone-pending"],
    ]);
    const hc = (await c.inspect()).HostConfig;
    expect([hc.Memory, hc.MemorySwap]).toEqual([512 * 1024 * 1024, 1024 * 1024 * 1024]);
  }, 30_000);

  it("removes the containers a killed harness had started, from the started journal alone", async () => {
    const run = `${RUN}-started`;
    const c = await startServer(docker, { runLabel: run });
    const journalDir = await mkdtemp(join(tmpdir(), "faultline-journal-"));
    await new StartedJournal(journalDir).record(`containers of run ${run}`, {
      type: "docker-run",
      runId: run,
    });
    const report = await runCleanup({ journalDir, env: process.env });
    expect(report.items.map((i) => [i.kind, i.action, i.target])).toEqual([
      ["started containers", "stopped", `containers of run ${run}`],
    ]);
    await expect(c.inspect()).rejects.toThrow(/no such container/i);
    expect(await readdir(journalDir)).toEqual([]);
    expect((await runCleanup({ journalDir, env: process.env })).items).toEqual([]);
  }, 60_000);
});
