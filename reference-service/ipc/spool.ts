/**
 * A spool directory: writers drop frame files atomically (temp file in the spool's temp
 * directory on the same file system, then rename into the spool directory), a reader picks them
 * up as their watch events come (a scan: in name order), validates, consumes (deletes) or
 * quarantines them. The reader never throws on a bad file: every rejection is quarantined
 * (with its kind in the file name) and reported through `onReject`, which the API turns into
 * faultline_ipc_frames_corrupt_total{kind}.
 */
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from "node:fs";
import { mkdir, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { z } from "zod";
import type { Clock, TimerHandle } from "../../common/clock.js";
import { decodeFrame, encodeFrame } from "./frame.js";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  FRAME_FILE_SUFFIX,
  REQUEST_ID_PATTERN,
  TMP_FILE_PREFIX,
  type SpoolRejectKind,
} from "./protocol.js";

let tmpCounter = 0;

/*
 * The hot path (write a frame, read and consume one) uses synchronous fs calls on purpose:
 * a frame is a few hundred bytes in a local directory, so each call takes microseconds, while
 * the promise API sends every step (open, write, close, rename; open, fstat, read, close,
 * unlink) through libuv's thread pool and back, a round trip of tens to hundreds of µs each
 * on a busy 2-core machine. Profiled: those hops were most of the spool's round trip.
 */

/**
 * Where a spool directory's writers create their temp files: spool/tmp/<direction>, beside the
 * watched directory on the same file system (so the rename stays atomic), not inside it. A temp
 * file written inside the watched directory raised three inotify events (create, modify, move)
 * before the one that matters, and each woke the reading process: measured with
 * bench/service/probe-worker.ts, the worker slept and woke 2.2 times per round trip, 1.25 with
 * the temp files aside. The reader still finds temp files abandoned there (see SpoolReader).
 */
export function tempDirFor(spoolDir: string): string {
  return join(dirname(spoolDir), "tmp", basename(spoolDir));
}

/**
 * Writes `data` to dir/name so that readers see either nothing or the whole file. The temp file
 * is created in `tempDir` (default: `dir` itself), which must be on the same file system.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- kept async: callers await it, errors reject
export async function writeFileAtomic(
  dir: string,
  name: string,
  data: Buffer | string,
  tempDir: string = dir,
): Promise<void> {
  writeFileAtomicSync(dir, name, data, tempDir);
}

function writeTemp(tempDir: string, tmp: string, data: Buffer | string): void {
  try {
    writeFileSync(tmp, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(tempDir, { recursive: true }); // first write, or the state dir was reset under us
    writeFileSync(tmp, data);
  }
}

function writeFileAtomicSync(dir: string, name: string, data: Buffer | string, tempDir: string): void {
  const tmp = join(tempDir, `${TMP_FILE_PREFIX}${process.pid}-${++tmpCounter}-${name}`);
  writeTemp(tempDir, tmp, data);
  try {
    renameSync(tmp, join(dir, name));
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file is gone already; the rename's error is the one to report
    }
    throw e;
  }
}

/**
 * Deletes every file in a spool directory (at process start: frames left by a previous
 * incarnation belong to calls that were already failed). Returns how many were removed.
 */
export async function purgeSpoolDir(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    try {
      await unlink(join(dir, name));
      removed++;
    } catch {
      // a directory or a file we may not delete: the reader quarantines or skips it later
    }
  }
  return removed;
}

export function frameFileName(seq: number, requestId: string): string {
  return `${String(seq).padStart(10, "0")}-${requestId}${FRAME_FILE_SUFFIX}`;
}

/** The requestId a frame file's name claims, used to fail that request when its frame is bad. */
export function requestIdFromFileName(name: string): string | undefined {
  const bare = name.startsWith(TMP_FILE_PREFIX) ? name.replace(/^\.tmp-\d+-\d+-/, "") : name;
  const m = /^\d{10}-(.+)\.frame$/.exec(bare);
  return m?.[1] !== undefined && REQUEST_ID_PATTERN.test(m[1]) ? m[1] : undefined;
}

/** Sequenced, atomic frame writer for one direction of the spool (temp files in tempDirFor(dir)). */
export class SpoolWriter {
  private seq = 0;
  private readonly tempDir: string;
  constructor(readonly dir: string) {
    this.tempDir = tempDirFor(dir);
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.tempDir, { recursive: true });
  }

  async write(requestId: string, payload: unknown): Promise<string> {
    this.seq = (this.seq + 1) >>> 0;
    const name = frameFileName(this.seq, requestId);
    await writeFileAtomic(this.dir, name, encodeFrame({ seq: this.seq, requestId }, payload), this.tempDir);
    return name;
  }
}

export interface SpoolFrame<T> {
  readonly file: string;
  readonly seq: number;
  readonly requestId: string;
  readonly payload: T;
}

export interface SpoolRejection {
  readonly kind: SpoolRejectKind;
  readonly file: string;
  /** From the frame header when it decoded, else from the file name (may be absent). */
  readonly requestId: string | undefined;
  readonly detail: string;
}

export interface SpoolReaderOptions<S extends z.ZodType> {
  readonly dir: string;
  readonly quarantineDir: string;
  readonly schema: S;
  readonly clock: Clock;
  /** Returns the frame's send time (epoch ms) for the stale check. */
  readonly sentAtMs: (payload: z.output<S>) => number;
  /** Handles a valid frame; returning a kind rejects it instead (e.g. "orphan"). Must not throw. */
  readonly onFrame: (frame: SpoolFrame<z.output<S>>) => SpoolRejectKind | undefined | void;
  readonly onReject: (rejection: SpoolRejection) => void;
  readonly pollIntervalMs?: number;
  readonly staleFrameMs?: number;
  /** Temp files older than this belong to a writer that died mid-write. */
  readonly partialAfterMs?: number;
  readonly maxPayloadBytes?: number;
  /** Quarantine at most this many files per reader; beyond it bad files are deleted. */
  readonly maxQuarantined?: number;
}

const DEDUPE_MEMORY = 4096;
/** How often the poll lists the writers' temp directory for abandoned temp files. */
const TEMP_SCAN_INTERVAL_MS = 1_000;

/**
 * Watches a spool directory with fs.watch plus a poll (fs.watch can miss events, and does not
 * work on every file system). An event that names a file handles that file (events come in
 * rename order, so a writer's frames in its order); a scan (poll, unnamed event) handles every
 * file in name order. Scans and handled events are serialized; an event or a request for a
 * scan while one runs runs one more scan afterwards. The poll also looks at the writers' temp directory
 * (tempDirFor(dir)) for temp files abandoned mid-write, rejected as `partial` as they would be
 * in the spool directory itself (where a temp file of another writer is still handled).
 */
export class SpoolReader<S extends z.ZodType> {
  private watcher: FSWatcher | undefined;
  private pollTimer: TimerHandle | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private closed = false;
  private readonly seen = new Map<string, true>();
  private readonly ignored = new Set<string>();
  /** Frames this reader unlinked whose deletion event has not arrived yet (see ownEvent). */
  private readonly consumed = new Set<string>();
  private quarantined = 0;

  private readonly tempDir: string;
  private tempsScannedAt = -Infinity;

  constructor(private readonly o: SpoolReaderOptions<S>) {
    this.tempDir = tempDirFor(o.dir);
  }

  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true });
    await mkdir(this.o.quarantineDir, { recursive: true });
    try {
      this.watcher = watch(this.o.dir, (_event, name) => {
        if (name === null) void this.scan();
        else if (!this.ownEvent(name)) void this.take(name);
      });
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      this.watcher = undefined; // the poll alone still works
    }
    this.schedulePoll();
    await this.scan();
  }

  /**
   * Events that cannot bring a new frame: a temp file being written (its rename into place
   * raises an event under the frame's name; an abandoned temp is found by the poll) and the
   * deletion of a frame this reader just consumed. A frame costs about six inotify events; a
   * scan per event was most of a reader's work per frame.
   */
  private ownEvent(name: string): boolean {
    if (name.startsWith(TMP_FILE_PREFIX)) return true;
    return this.consumed.delete(name);
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.o.clock.clearTimeout(this.pollTimer);
  }

  /** Scans now (also what the watcher and poll call). Resolves when this scan is done. */
  scan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = this.scanLoop().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /**
   * A watch event named a file: handle that file without listing the directory. A frame's
   * rename raises one event under its own name, so the directory read the scan costs (open,
   * getdents twice, close) found nothing else on the IPC path. A scan already running lists the
   * directory again afterwards instead; the poll's scan still finds what an event missed.
   */
  private take(name: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = this.takeThenRescan(name).finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async takeThenRescan(name: string): Promise<void> {
    if (!this.ignored.has(name)) await this.handle(name);
    if (this.rescan && !this.closed) await this.scanLoop();
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = this.o.clock.setTimeout(() => {
      void this.scan()
        .then(() => this.scanTempsWhenDue())
        .finally(() => this.schedulePoll());
    }, this.o.pollIntervalMs ?? 25);
  }

  /**
   * At the first poll, then at most once a second: a temp file counts as abandoned only after
   * partialAfterMs (5 s by default), so listing the temp directory at every 25 ms poll was a
   * directory read 40 times a second on the IPC path for nothing.
   */
  private async scanTempsWhenDue(): Promise<void> {
    const now = this.o.clock.monotonic();
    if (now - this.tempsScannedAt < TEMP_SCAN_INTERVAL_MS) return;
    this.tempsScannedAt = now;
    await this.scanTemps();
  }

  /** Temp files of this direction's writers, checked for abandonment (poll only: they raise no event). */
  private async scanTemps(): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.tempDir);
    } catch {
      return; // not created yet (no frame written) or being reset
    }
    for (const name of names) {
      if (this.closed) return;
      if (this.ignored.has(join(this.tempDir, name))) continue;
      await this.checkAbandonedTemp(name, join(this.tempDir, name), this.tempDir);
    }
  }

  private async scanLoop(): Promise<void> {
    do {
      this.rescan = false;
      let names: string[];
      try {
        names = readdirSync(this.o.dir).sort();
      } catch {
        return; // directory gone (state dir being reset): next poll tries again
      }
      for (const name of names) {
        if (this.closed) return;
        if (this.ignored.has(name)) continue;
        await this.handle(name);
      }
    } while (this.rescan && !this.closed);
  }

  private async handle(name: string): Promise<void> {
    const path = join(this.o.dir, name);
    if (name.startsWith(TMP_FILE_PREFIX)) {
      await this.checkAbandonedTemp(name, path, this.o.dir);
      return;
    }
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return; // consumed or deleted between readdir and read
      await this.reject(name, "unreadable", requestIdFromFileName(name), String(code ?? e));
      return;
    }
    const decoded = decodeFrame(buf, this.o.schema, this.o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
    if (!decoded.ok) {
      await this.reject(name, decoded.reason, requestIdFromFileName(name), decoded.detail);
      return;
    }
    const key = `${decoded.requestId}#${decoded.seq}`;
    if (this.seen.has(key)) {
      await this.reject(name, "duplicate", decoded.requestId, `seq ${decoded.seq} already consumed`);
      return;
    }
    const age = this.o.clock.now() - this.o.sentAtMs(decoded.payload);
    if (age > (this.o.staleFrameMs ?? 30_000)) {
      await this.reject(name, "stale", decoded.requestId, `sent ${age} ms ago`);
      return;
    }
    this.remember(key);
    const frame = { file: name, seq: decoded.seq, requestId: decoded.requestId, payload: decoded.payload };
    const verdict = this.deliver(frame);
    if (verdict) {
      await this.reject(name, verdict, decoded.requestId, "rejected by handler");
      return;
    }
    try {
      unlinkSync(path);
      this.consumed.add(name);
      if (this.consumed.size > DEDUPE_MEMORY) this.consumed.clear(); // events lost: forget them
    } catch {
      // already gone = deleted in flight; we have it
    }
  }

  private deliver(frame: SpoolFrame<z.output<S>>): SpoolRejectKind | undefined {
    try {
      return this.o.onFrame(frame) ?? undefined;
    } catch (e) {
      // A handler bug must not stop the reader; the frame is consumed.
      process.emitWarning(`spool handler threw on ${frame.file}: ${String(e)}`);
      return undefined;
    }
  }

  private remember(key: string): void {
    this.seen.set(key, true);
    if (this.seen.size > DEDUPE_MEMORY) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private async checkAbandonedTemp(name: string, path: string, dir: string): Promise<void> {
    try {
      const s = statSync(path);
      if (this.o.clock.now() - s.mtimeMs <= (this.o.partialAfterMs ?? 5_000)) return;
    } catch {
      return;
    }
    await this.reject(name, "partial", requestIdFromFileName(name), "temp file abandoned mid-write", dir);
  }

  /** Quarantines dir/name (dir: the spool directory unless said) and reports it. */
  private async reject(
    name: string,
    kind: SpoolRejectKind,
    requestId: string | undefined,
    detail: string,
    dir: string = this.o.dir,
  ) {
    try {
      await this.moveAside(dir, name, kind);
    } catch (e) {
      // Cannot move or delete it (permissions): skip it from now on; it is reported once below.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        this.ignored.add(dir === this.o.dir ? name : join(dir, name));
    }
    try {
      this.o.onReject({ kind, file: name, requestId, detail });
    } catch {
      // a metrics callback failing must not stop the reader
    }
  }

  private async moveAside(dir: string, name: string, kind: SpoolRejectKind): Promise<void> {
    const from = join(dir, name);
    if (this.quarantined >= (this.o.maxQuarantined ?? 1000)) {
      await unlink(from);
      return;
    }
    const to = join(this.o.quarantineDir, `${this.o.clock.now()}-${kind}--${name}`);
    try {
      await rename(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      await mkdir(this.o.quarantineDir, { recursive: true }); // quarantine dir removed under us?
      await rename(from, to); // ENOENT again = the file itself is gone (deleted in flight)
    }
    this.quarantined++;
  }
}
