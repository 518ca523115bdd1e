import type { ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Toxiproxy } from "toxiproxy-node-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnModule } from "../../../common/spawn-module.js";
import { memoryCgroupOf } from "../../../harness/faults/cgroup.js";
import { runCleanup } from "../../../harness/faults/cleanup.js";
import { gpuOom } from "../../../harness/faults/kinds/gpu-oom.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { readProcStat } from "../../../harness/faults/proc.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../../harness/toxiproxy/server.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { encodeFrame } from "../../../reference-service/ipc/frame.js";
import { Sandbox, exitOf, faultContext, waitForState } from "./helpers.js";

const sandbox = new Sandbox();
let toxi: ToxiproxyServer;
let upstream: Server;
const spawned: ChildProcess[] = [];

beforeAll(async () => {
  upstream = createServer((_q, r) => r.end("ok"));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  toxi = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1 });
  await new Toxiproxy(toxi.url).createProxy({
    name: "api",
    listen: "127.0.0.1:0",
    upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
  });
});
afterAll(async () => {
  await toxi.close();
  await new Promise((r) => upstream.close(r));
});
afterEach(async () => {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sandbox.teardown();
});

describe("faultline cleanup after a SIGKILLed harness", () => {
  it("reverts every fault the dead harness left: no toxic, frozen process, reservation, memory limit, unreadable file or journal entry", async () => {
    const dir = await sandbox.tempDir();
    const journalDir = join(dir, "journal");
    const stateDir = join(dir, "state");
    const frame = join(stateDir, STATE_FILES.spoolRequests, "0000000001-r1.frame");
    await mkdir(join(stateDir, STATE_FILES.spoolRequests), { recursive: true });
    await writeFile(frame, encodeFrame({ seq: 1, requestId: "r1" }, { type: "cancel", sentAtMs: 0 }));
    const worker = await sandbox.spawnLoop();
    const workerPid = worker.pid ?? -1;

    const harness = spawnModule(
      new URL("./fixtures/crash-harness.js", import.meta.url),
      [journalDir, stateDir, toxi.url, String(workerPid)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    spawned.push(harness);
    const line = await new Promise<string>((resolve) =>
      harness.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    expect(line).toBe("injected");
    harness.kill("SIGKILL");
    expect(await exitOf(harness)).toEqual({ code: null, signal: "SIGKILL" });

    // Everything is still in effect: nobody reverted.
    expect(await waitForState(workerPid, "T")).toBe("T");
    expect((await readdir(join(stateDir, STATE_FILES.gpuCotenants))).length).toBe(1);
    expect(((await (await fetch(`${toxi.url}/proxies/api/toxics`)).json()) as unknown[]).length).toBe(1);
    expect((await stat(frame)).mode & 0o777).toBe(0);
    const ownGroup = (await memoryCgroupOf(process.pid)).dir;
    expect((await memoryCgroupOf(workerPid)).dir).toMatch(
      new RegExp(`^${ownGroup}/faultline-[0-9a-f]{6}-mem$`),
    );
    expect((await readdir(journalDir)).length).toBe(5);

    const report = await runCleanup({ journalDir });
    expect(report.items.map((i) => [i.kind, i.action]).sort()).toEqual([
      ["gpu-oom", "reverted"],
      ["host-oom", "reverted"],
      ["ipc-corruption", "reverted"],
      ["net-latency", "reverted"],
      ["process-freeze", "reverted"],
    ]);
    expect(await waitForState(workerPid, "S")).toBe("S");
    expect(await readdir(join(stateDir, STATE_FILES.gpuCotenants))).toEqual([]);
    expect(await (await fetch(`${toxi.url}/proxies/api/toxics`)).json()).toEqual([]);
    expect((await stat(frame)).mode & 0o777).toBe(0o644);
    expect((await memoryCgroupOf(workerPid)).dir).toBe(ownGroup);
    expect(await readdir(journalDir)).toEqual([]);

    // Running it twice is harmless.
    expect(await runCleanup({ journalDir })).toEqual({ journalDir, items: [] });
  }, 30_000);

  it("counts a fault whose carrier died with the harness as reverted, clears it and says so", async () => {
    const dir = await sandbox.tempDir();
    const journalDir = join(dir, "journal");
    const stateDir = join(dir, "state");
    await mkdir(join(stateDir, STATE_FILES.spoolRequests), { recursive: true });
    // A Toxiproxy of this run only: it dies below, as the embedded one dies with the harness.
    const ownToxi = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1 });
    await new Toxiproxy(ownToxi.url).createProxy({
      name: "api",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
    const worker = await sandbox.spawnLoop();
    const workerPid = worker.pid ?? -1;
    const harness = spawnModule(
      new URL("./fixtures/crash-harness.js", import.meta.url),
      [journalDir, stateDir, ownToxi.url, String(workerPid)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    spawned.push(harness);
    const line = await new Promise<string>((resolve) =>
      harness.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    expect(line).toBe("injected");
    harness.kill("SIGKILL");
    await exitOf(harness);
    await ownToxi.close();
    worker.kill("SIGKILL");
    await exitOf(worker);

    const report = await runCleanup({ journalDir });
    const byKind = Object.fromEntries(report.items.map((i) => [i.kind, i]));
    expect(byKind["net-latency"]).toMatchObject({ action: "carrier-gone" });
    expect(byKind["net-latency"]?.error).toBe(
      `the Toxiproxy at ${ownToxi.url} is not running, so its toxic went with it`,
    );
    expect(report.items.filter((i) => i.action === "failed")).toEqual([]);
    expect(await readdir(journalDir)).toEqual([]);
    expect(await runCleanup({ journalDir })).toEqual({ journalDir, items: [] });
  }, 30_000);

  it("a pending entry (crashed inside inject) is undone conservatively", async () => {
    const dir = await sandbox.tempDir();
    const journal = new FaultJournal(join(dir, "journal"));
    const stateDir = join(dir, "state");
    const context = { occurrenceId: "p1", targetName: "gpu", stateDir, toxiproxy: null, pids: {} };
    await journal.begin({
      occurrenceId: "p1",
      faultId: "g",
      kind: "gpu-oom",
      target: "gpu",
      params: { bytes: 5 },
      context,
      createdAtMs: 0,
    });
    // The effect happened, then the harness died before the journal learned the revert state.
    await gpuOom.inject({ bytes: 5 }, faultContext({ stateDir }, "gpu", "p1"));
    const report = await runCleanup({ journalDir: journal.dir });
    expect(report.items.map((i) => [i.occurrenceId, i.action, i.description])).toEqual([
      ["p1", "undone-pending", "reserve 5 bytes of gpu VRAM"],
    ]);
    expect(await readdir(join(stateDir, STATE_FILES.gpuCotenants))).toEqual([]);
  });

  it("skips entries of a harness that is still alive unless forced; reports unreadable files", async () => {
    const dir = await sandbox.tempDir();
    const journal = new FaultJournal(join(dir, "journal"));
    const stateDir = join(dir, "state");
    const context = { occurrenceId: "live", targetName: "gpu", stateDir, toxiproxy: null, pids: {} };
    const entry = await journal.begin({
      occurrenceId: "live",
      faultId: "g",
      kind: "gpu-oom",
      target: "gpu",
      params: { bytes: 5 },
      context,
      createdAtMs: 0,
    });
    // Pretend another process, still running, wrote it.
    const file = join(journal.dir, "live.json");
    const other = await sandbox.spawnLoop();
    const st = await readProcStat(other.pid ?? -1);
    await writeFile(
      file,
      JSON.stringify({ ...entry, harnessPid: other.pid, harnessStartTime: st?.startTime }),
    );
    await writeFile(join(journal.dir, "junk.json"), "{not json");
    const r1 = await runCleanup({ journalDir: journal.dir });
    expect(r1.items.map((i) => i.action).sort()).toEqual(["skipped-live", "unreadable"]);
    const r2 = await runCleanup({ journalDir: journal.dir, force: true });
    expect(r2.items.map((i) => i.action).sort()).toEqual(["undone-pending", "unreadable"]);
  });
});
