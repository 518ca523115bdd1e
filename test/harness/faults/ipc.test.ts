import { lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { ipcCorruption, ipcCorruptionProgress } from "../../../harness/faults/kinds/ipc-corruption.js";
import { IpcManifest, faultsDirOf } from "../../../harness/faults/ipc-manifest.js";
import { decodeFrame, encodeFrame } from "../../../reference-service/ipc/frame.js";
import { requestPayloadSchema } from "../../../reference-service/ipc/protocol.js";
import { frameFileName } from "../../../reference-service/ipc/spool.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { Sandbox, faultContext } from "./helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

const NOW = 1_700_000_000_000;

async function spool() {
  const stateDir = await sandbox.tempDir();
  const requests = join(stateDir, STATE_FILES.spoolRequests);
  const quarantine = join(stateDir, STATE_FILES.spoolQuarantine);
  await mkdir(requests, { recursive: true });
  await mkdir(quarantine, { recursive: true });
  const name = frameFileName(5, "req-1");
  const frame = encodeFrame({ seq: 5, requestId: "req-1" }, { type: "cancel", sentAtMs: NOW });
  await writeFile(join(requests, name), frame);
  return { stateDir, requests, quarantine, name, frame };
}

const decode = async (path: string) => {
  const r = decodeFrame(await readFile(path), requestPayloadSchema);
  return r.ok ? "ok" : r.reason;
};

const ctxFor = (stateDir: string, occ = "occ") => ({
  ...faultContext({ stateDir }, "spool", occ),
  random: () => 0.5,
});
const clock = new ManualClock(NOW);

describe("ipc-corruption on a real spool of real frames", () => {
  it.each([
    ["truncate", "truncated"],
    ["random-bytes", "bad-magic"],
    ["bit-flip", "crc-mismatch"],
  ] as const)("%s damages the frame in place so it decodes as %s", async (mode, reason) => {
    const s = await spool();
    expect(await decode(join(s.requests, s.name))).toBe("ok");
    const state = await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode, burst: 1 }),
      ctxFor(s.stateDir),
    );
    expect(await decode(join(s.requests, s.name))).toBe(reason);
    await ipcCorruption.revert(state, { clock });
    expect(await readdir(s.requests)).toEqual([s.name]); // corruption is not undone: it happened
    await expect(readdir(state.manifestDir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a burst hits each frame once: two corruptions on two frames damage both", async () => {
    const s = await spool();
    const second = frameFileName(6, "req-2");
    await writeFile(
      join(s.requests, second),
      encodeFrame({ seq: 6, requestId: "req-2" }, { type: "cancel", sentAtMs: NOW }),
    );
    await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode: "bit-flip", burst: 2 }),
      ctxFor(s.stateDir),
    );
    expect([await decode(join(s.requests, s.name)), await decode(join(s.requests, second))]).toEqual([
      "crc-mismatch",
      "crc-mismatch",
    ]);
  });

  it("duplicate plants a second copy of the same frame; revert removes it", async () => {
    const s = await spool();
    const state = await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode: "duplicate", burst: 1 }),
      ctxFor(s.stateDir),
    );
    const copy = "9900000001-req-1.frame";
    expect((await readdir(s.requests)).sort()).toEqual([s.name, copy]);
    expect(await readFile(join(s.requests, copy))).toEqual(s.frame);
    await ipcCorruption.revert(state, { clock });
    expect(await readdir(s.requests)).toEqual([s.name]);
  });

  it("delete-in-flight removes the frame", async () => {
    const s = await spool();
    await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode: "delete-in-flight", burst: 1 }),
      ctxFor(s.stateDir),
    );
    expect(await readdir(s.requests)).toEqual([]);
  });

  it("unreadable (loop) makes reads fail even for root; revert restores the frame", async () => {
    const s = await spool();
    const path = join(s.requests, s.name);
    const p = ipcCorruption.params.parse({ mode: "unreadable", burst: 1, unreadableAs: "loop" });
    const state = await ipcCorruption.inject(p, ctxFor(s.stateDir));
    await expect(readFile(path)).rejects.toMatchObject({ code: "ELOOP" });
    await ipcCorruption.revert(state, { clock });
    expect(await readFile(path)).toEqual(s.frame);
    expect(await readdir(s.requests)).toEqual([s.name]);
  });

  it("unreadable (loop) after the service quarantined it: the loop is removed, the original dropped", async () => {
    const s = await spool();
    const p = ipcCorruption.params.parse({ mode: "unreadable", burst: 1, unreadableAs: "loop" });
    const state = await ipcCorruption.inject(p, ctxFor(s.stateDir));
    // What the service's reader does with an unreadable frame: moves it to quarantine.
    const quarantined = join(s.quarantine, `${NOW}-unreadable--${s.name}`);
    await rename(join(s.requests, s.name), quarantined);
    expect(await readlink(quarantined)).toBe(s.name);
    await ipcCorruption.revert(state, { clock });
    expect([await readdir(s.requests), await readdir(s.quarantine)]).toEqual([[], []]);
  });

  it("unreadable (loop) the service deleted: revert does not bring the frame back", async () => {
    const s = await spool();
    const p = ipcCorruption.params.parse({ mode: "unreadable", burst: 1, unreadableAs: "loop" });
    const state = await ipcCorruption.inject(p, ctxFor(s.stateDir));
    await rm(join(s.requests, s.name)); // the reader consumed the path (our link)
    await ipcCorruption.revert(state, { clock });
    expect(await readdir(s.requests)).toEqual([]);
  });

  it("a crash between moving the frame aside and making the loop: cleanup puts the frame back", async () => {
    const s = await spool();
    const manifest = new IpcManifest(faultsDirOf(s.stateDir, "half"));
    const path = join(s.requests, s.name);
    const backup = join(manifest.dir, "backup-1");
    await manifest.record({ op: "loop", path, backup });
    await rename(path, backup); // ...and the harness died here
    await ipcCorruption.revertPending?.(
      ipcCorruption.params.parse({ mode: "unreadable", burst: 1 }),
      { occurrenceId: "half", targetName: "spool", stateDir: s.stateDir, toxiproxy: null, pids: {} },
      { clock },
    );
    expect(await readFile(path)).toEqual(s.frame);
  });

  it("unreadable (chmod) sets mode 000 and revert restores the mode", async () => {
    const s = await spool();
    const path = join(s.requests, s.name);
    const before = (await stat(path)).mode & 0o777;
    const p = ipcCorruption.params.parse({ mode: "unreadable", burst: 1, unreadableAs: "chmod" });
    const state = await ipcCorruption.inject(p, ctxFor(s.stateDir));
    expect((await stat(path)).mode & 0o777).toBe(0);
    await ipcCorruption.revert(state, { clock });
    expect((await stat(path)).mode & 0o777).toBe(before);
  });

  it.each([
    ["invalid-frame", "crc-mismatch"],
    ["wrong-schema", "bad-schema"],
    ["stale", "ok"],
  ] as const)("%s plants frames that decode as %s, named after the occurrence", async (mode, reason) => {
    const s = await spool();
    const state = await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode, burst: 2 }),
      ctxFor(s.stateDir, "o7"),
    );
    const planted = ["0000000001-faultline-o7-1.frame", "0000000002-faultline-o7-2.frame"];
    expect((await readdir(s.requests)).sort()).toEqual([...planted, s.name]);
    for (const f of planted) expect(await decode(join(s.requests, f))).toBe(reason);
    await ipcCorruption.revert(state, { clock });
    expect(await readdir(s.requests)).toEqual([s.name]);
  });

  it("stale frames carry an old send time and an old mtime", async () => {
    const s = await spool();
    const c = ctxFor(s.stateDir, "st");
    await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode: "stale", burst: 1, staleAgeMs: 60_000 }),
      c,
    );
    const path = join(s.requests, "0000000001-faultline-st-1.frame");
    const r = decodeFrame(await readFile(path), requestPayloadSchema);
    expect(r.ok && r.payload.sentAtMs).toBe(NOW - 60_000);
    expect((await lstat(path)).mtimeMs).toBe(NOW - 60_000);
  });

  it("rate mode plants one file per tick of the clock until revert", async () => {
    const s = await spool();
    const c = ctxFor(s.stateDir, "rt");
    const mc = c.clock as ManualClock;
    const state = await ipcCorruption.inject(
      ipcCorruption.params.parse({ mode: "wrong-schema", rate: 4 }),
      c,
    );
    expect(await ipcCorruptionProgress("rt")).toEqual({ done: 1, errors: [] }); // the first tick is at inject
    await mc.advanceAsync(249);
    expect(await ipcCorruptionProgress("rt")).toEqual({ done: 1, errors: [] });
    await mc.advanceAsync(1);
    expect(await ipcCorruptionProgress("rt")).toEqual({ done: 2, errors: [] });
    await mc.advanceAsync(250);
    await ipcCorruptionProgress("rt");
    await mc.advanceAsync(250);
    expect(await ipcCorruptionProgress("rt")).toEqual({ done: 4, errors: [] });
    expect((await readdir(s.requests)).length).toBe(5);
    await ipcCorruption.revert(state, { clock });
    await mc.advanceAsync(1000);
    expect([await ipcCorruptionProgress("rt"), await readdir(s.requests)]).toEqual([null, [s.name]]);
  });

  it("revertPending undoes a crashed inject from the occurrence id alone", async () => {
    const s = await spool();
    const p = ipcCorruption.params.parse({ mode: "unreadable", burst: 1, unreadableAs: "chmod" });
    await ipcCorruption.inject(p, ctxFor(s.stateDir, "crash"));
    await ipcCorruption.revertPending?.(
      p,
      { occurrenceId: "crash", targetName: "spool", stateDir: s.stateDir, toxiproxy: null, pids: {} },
      { clock },
    );
    expect((await stat(join(s.requests, s.name))).mode & 0o777).toBe(0o644);
  });

  it("needs exactly one of rate and burst; modes are a closed list", () => {
    const r = ipcCorruption.params.safeParse({ mode: "shred" });
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(["mode"]);
    const r2 = ipcCorruption.params.safeParse({ mode: "truncate" });
    expect(r2.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["rate", "give exactly one of rate or burst"],
    ]);
  });
});
