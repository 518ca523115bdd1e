import { watch } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock, systemClock } from "../../../common/clock.js";
import { encodeFrame } from "../../../reference-service/ipc/frame.js";
import { requestPayloadSchema, type RequestPayload } from "../../../reference-service/ipc/protocol.js";
import {
  SpoolReader,
  SpoolWriter,
  frameFileName,
  purgeSpoolDir,
  requestIdFromFileName,
  tempDirFor,
  type SpoolFrame,
  type SpoolRejection,
} from "../../../reference-service/ipc/spool.js";

let root: string;
let dir: string;
let quarantine: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "faultline-spool-"));
  dir = join(root, "requests");
  quarantine = join(root, "quarantine");
  await mkdir(dir, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function reader(
  clock: ManualClock | typeof systemClock,
  handler?: (f: SpoolFrame<RequestPayload>) => "orphan" | undefined,
) {
  const frames: SpoolFrame<RequestPayload>[] = [];
  const rejects: SpoolRejection[] = [];
  const r = new SpoolReader({
    dir,
    quarantineDir: quarantine,
    schema: requestPayloadSchema,
    clock,
    sentAtMs: (p) => p.sentAtMs,
    staleFrameMs: 30_000,
    partialAfterMs: 5_000,
    maxPayloadBytes: 1024,
    onFrame: (f) => {
      frames.push(f);
      return handler?.(f);
    },
    onReject: (x) => rejects.push(x),
  });
  return { r, frames, rejects };
}

const NOW = 1_800_000_000_000;
const cancelAt = (sentAtMs: number): RequestPayload => ({ type: "cancel", sentAtMs });

describe("spool file names", () => {
  it("pads seq and recovers the requestId, also from a writer's temp name", () => {
    expect(frameFileName(42, "r-1~2")).toBe("0000000042-r-1~2.frame");
    expect(requestIdFromFileName("0000000042-r-1~2.frame")).toBe("r-1~2");
    expect(requestIdFromFileName(".tmp-123-4-0000000042-r-1~2.frame")).toBe("r-1~2");
    expect(requestIdFromFileName("garbage")).toBe(undefined);
  });
});

describe("SpoolWriter + SpoolReader", () => {
  it("delivers 200 frames written concurrently with a live watcher, none torn, none left behind", async () => {
    const { r, frames, rejects } = reader(systemClock);
    await r.start();
    const w = new SpoolWriter(dir);
    const big = "x".repeat(600); // bigger than one write() chunk of small frames, still < 1024 max
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => w.write(`req-${i}`, { ...cancelAt(Date.now()), reason: big })),
    );
    for (let i = 0; i < 200 && frames.length < 200; i++) await r.scan();
    r.close();
    expect(rejects).toEqual([]);
    expect(frames.map((f) => f.requestId).sort()).toEqual(
      Array.from({ length: 200 }, (_, i) => `req-${i}`).sort(),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("quarantines and reports every kind of bad file, delivers the good one, never throws", async () => {
    const clock = new ManualClock(NOW);
    const put = (name: string, data: Buffer | string): Promise<void> => writeFile(join(dir, name), data);
    const frame = (seq: number, id: string, p: unknown): Buffer => encodeFrame({ seq, requestId: id }, p);
    const good = frame(1, "good", cancelAt(NOW - 10));
    await put(frameFileName(1, "good"), good);
    await put(frameFileName(2, "empty"), "");
    await put(frameFileName(3, "trunc"), frame(3, "trunc", cancelAt(NOW)).subarray(0, 20));
    const flipped = frame(4, "flip", cancelAt(NOW));
    flipped[flipped.length - 3] ^= 0x10;
    await put(frameFileName(4, "flip"), flipped);
    await put(
      frameFileName(5, "magic"),
      Buffer.concat([Buffer.from("NOPE"), frame(5, "magic", {}).subarray(4)]),
    );
    await put(frameFileName(6, "schema"), frame(6, "schema", { type: "nonsense" }));
    await put(frameFileName(7, "big"), frame(7, "big", { ...cancelAt(NOW), reason: "y".repeat(2000) }));
    await put(frameFileName(8, "stale"), frame(8, "stale", cancelAt(NOW - 60_000)));
    // A copy of the good frame under another name: same requestId and seq -> duplicate.
    await copyFile(join(dir, frameFileName(1, "good")), join(dir, frameFileName(9, "good")));
    // A directory where a frame should be: reading fails (EISDIR) -> unreadable, even as root.
    await mkdir(join(dir, frameFileName(10, "dir")));
    const tmp = join(dir, ".tmp-999-1-0000000011-partial.frame");
    await put(".tmp-999-1-0000000011-partial.frame", good.subarray(0, 10));
    await utimes(tmp, (NOW - 60_000) / 1000, (NOW - 60_000) / 1000);

    const { r, frames, rejects } = reader(clock);
    await r.scan();
    r.close();
    expect(frames.map((f) => [f.requestId, f.seq, f.payload])).toEqual([["good", 1, cancelAt(NOW - 10)]]);
    expect(rejects.map((x) => [x.kind, x.requestId])).toEqual([
      ["partial", "partial"], // ".tmp-" sorts before the digits, so it is looked at first
      ["empty", "empty"],
      ["truncated", "trunc"],
      ["crc-mismatch", "flip"],
      ["bad-magic", "magic"],
      ["bad-schema", "schema"],
      ["oversized", "big"],
      ["stale", "stale"],
      ["duplicate", "good"],
      ["unreadable", "dir"],
    ]);
    const q = (await readdir(quarantine)).map((n) => n.replace(/^\d+-/, "")).sort();
    expect(q).toEqual(
      [
        "bad-magic--0000000005-magic.frame",
        "bad-schema--0000000006-schema.frame",
        "crc-mismatch--0000000004-flip.frame",
        "duplicate--0000000009-good.frame",
        "empty--0000000002-empty.frame",
        "oversized--0000000007-big.frame",
        "partial--.tmp-999-1-0000000011-partial.frame",
        "stale--0000000008-stale.frame",
        "truncated--0000000003-trunc.frame",
        "unreadable--0000000010-dir.frame",
      ].sort(),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("a writer's temp files stay out of the watched directory: its watchers see the frames' names only", async () => {
    const events: string[] = [];
    const watcher = watch(dir, (_e, name) => events.push(name ?? ""));
    const w = new SpoolWriter(dir);
    const names = [await w.write("a", cancelAt(NOW)), await w.write("b", cancelAt(NOW))];
    await vi.waitFor(() => expect(names.every((n) => events.includes(n))).toBe(true));
    watcher.close();
    expect(events.filter((n) => !names.includes(n))).toEqual([]);
    expect(await readdir(dir)).toEqual(names);
    expect(tempDirFor(dir)).toEqual(join(root, "tmp", "requests"));
    expect(await readdir(tempDirFor(dir))).toEqual([]);
  });

  it("its poll finds a temp file abandoned in the writers' temp directory: partial, quarantined", async () => {
    const clock = new ManualClock(Date.now());
    const temps = tempDirFor(dir);
    await mkdir(temps, { recursive: true });
    const lost = ".tmp-999-1-0000000011-lost.frame";
    await writeFile(join(temps, lost), "FLTF");
    const old = (Date.now() - 60_000) / 1000;
    await utimes(join(temps, lost), old, old);
    await writeFile(join(temps, ".tmp-999-2-0000000012-fresh.frame"), "FLTF"); // still being written
    const { r, rejects } = reader(clock);
    await r.start();
    expect(rejects).toEqual([]); // not at the first scan: the temp directory is for the poll
    await clock.advanceAsync(25);
    await vi.waitFor(() => expect(rejects.map((x) => [x.kind, x.requestId])).toEqual([["partial", "lost"]]));
    r.close();
    expect(await readdir(temps)).toEqual([".tmp-999-2-0000000012-fresh.frame"]);
    expect((await readdir(quarantine)).map((n) => n.replace(/^\d+-/, ""))).toEqual([`partial--${lost}`]);
  });

  it("leaves a fresh temp file alone (a writer may still be writing it)", async () => {
    const clock = new ManualClock(Date.now());
    await writeFile(join(dir, ".tmp-1-1-0000000001-x.frame"), "abc");
    const { r, rejects } = reader(clock);
    await r.scan();
    r.close();
    expect(rejects).toEqual([]);
    expect(await readdir(dir)).toEqual([".tmp-1-1-0000000001-x.frame"]);
  });

  it("quarantines a frame the handler refuses (orphan) and keeps its bytes for inspection", async () => {
    const clock = new ManualClock(NOW);
    const bytes = encodeFrame({ seq: 3, requestId: "nobody" }, cancelAt(NOW));
    await writeFile(join(dir, frameFileName(3, "nobody")), bytes);
    const { r, frames, rejects } = reader(clock, () => "orphan");
    await r.scan();
    r.close();
    expect(frames.length).toBe(1);
    expect(rejects.map((x) => x.kind)).toEqual(["orphan"]);
    const [name] = await readdir(quarantine);
    expect(name).toBe(`${NOW}-orphan--0000000003-nobody.frame`);
    expect(await readFile(join(quarantine, name))).toEqual(bytes);
  });

  it("purgeSpoolDir removes leftover frames and temp files, and keeps going past what it cannot delete", async () => {
    await writeFile(join(dir, frameFileName(1, "old")), "x");
    await writeFile(join(dir, ".tmp-1-1-0000000002-old.frame"), "y");
    await mkdir(join(dir, "a-directory"));
    expect(await purgeSpoolDir(dir)).toBe(2);
    expect(await readdir(dir)).toEqual(["a-directory"]);
    expect(await purgeSpoolDir(join(root, "missing"))).toBe(0);
  });
});
