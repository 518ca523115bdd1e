import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { allocateColumns, type RequestColumns } from "../sla/columns.js";
import type { RowSource } from "../sla/source.js";
import { assertLittleEndian, HEADER, MAGIC, requestsFileSize, VERSION } from "./requests-file.js";

/** The file's columns in file order, with their element size. */
const LAYOUT = [
  ["intended", 8],
  ["sent", 8],
  ["firstByte", 8],
  ["end", 8],
  ["bytes", 4],
  ["status", 2],
  ["outcome", 1],
  ["template", 1],
] as const satisfies readonly (readonly [keyof RequestColumns, number])[];

const ROW_BYTES = LAYOUT.reduce((s, [, size]) => s + size, 0);

/** Rows per block a reader hands out: 64 Ki rows, 2.5 MiB of columns. */
export const BLOCK_ROWS = 1 << 16;

const view = (a: ArrayBufferView, bytes: number): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, bytes);

/**
 * Writes `requests.bin` while the run goes on, holding no rows itself: finished blocks of rows
 * (in intended order) are appended to a spill file next to it, each block column by column,
 * and `finish()` copies them column by column into the columnar layout of requests-file.ts
 * (whose header needs the row count, known only at the end), then deletes the spill. Writes
 * are synchronous: a block is 2.5 MiB per 64 Ki rows, so at 5,000 requests/s the load loop
 * pauses for one page-cache write every 13 s instead of buffering without bound.
 */
/** Where a run in this process spills the blocks of `file` until it is built. */
export function spillPathOf(file: string): string {
  return `${file}.${process.pid}.spill`;
}

export class RequestsFileWriter {
  private readonly spill: string;
  private fd: number;
  private readonly blocks: { offset: number; rows: number }[] = [];
  private spilled = 0;
  private closed = false;

  constructor(readonly file: string) {
    assertLittleEndian();
    this.spill = spillPathOf(file);
    this.fd = openSync(this.spill, "w+");
  }

  /** Rows appended so far. */
  get length(): number {
    return this.blocks.reduce((s, b) => s + b.rows, 0);
  }

  /** Appends rows [from, to) of `c` (the next rows of the run, in intended order). */
  append(c: RequestColumns, from = 0, to = c.length): void {
    if (this.closed) throw new Error("requests file already finished");
    const rows = to - from;
    if (rows <= 0) return;
    const offset = this.spilled;
    for (const [key, size] of LAYOUT) {
      const col = c[key];
      const part = col.subarray(from, to);
      this.spilled += writeAll(this.fd, view(part, rows * size), this.spilled);
    }
    this.blocks.push({ offset, rows });
  }

  /** Builds `file` from the spill (atomically: temp file + rename); returns the row count. */
  finish(): number {
    if (this.closed) throw new Error("requests file already finished");
    this.closed = true;
    const n = this.length;
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out = openSync(tmp, "w");
    try {
      const header = Buffer.alloc(HEADER);
      header.write(MAGIC, 0, "latin1");
      header.writeUInt32LE(VERSION, 4);
      header.writeUInt32LE(n, 8);
      let at = writeAll(out, header, 0);
      const largest = this.blocks.reduce((m, b) => Math.max(m, b.rows), 0);
      const buf = Buffer.allocUnsafe(largest * 8);
      for (const [key, size] of LAYOUT) {
        for (const b of this.blocks) {
          const bytes = b.rows * size;
          readAll(this.fd, buf, bytes, b.offset + columnOffset(key, b.rows));
          at += writeAll(out, buf.subarray(0, bytes), at);
        }
      }
      if (at !== requestsFileSize(n))
        throw new Error(`requests file came out ${at} bytes, expected ${requestsFileSize(n)}`);
    } finally {
      closeSync(out);
      closeSync(this.fd);
      rmSync(this.spill, { force: true });
    }
    renameSync(tmp, this.file);
    return n;
  }

  /** Drops the spill without writing `file` (the run failed before it had a record). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.spill, { force: true });
  }
}

/** Byte offset of a column inside a spill block of `rows` rows. */
function columnOffset(key: keyof RequestColumns, rows: number): number {
  let o = 0;
  for (const [k, size] of LAYOUT) {
    if (k === key) return o;
    o += rows * size;
  }
  throw new Error(`no column ${key}`);
}

function writeAll(fd: number, data: Uint8Array, position: number): number {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
  return done;
}

function readAll(fd: number, into: Uint8Array, bytes: number, position: number): void {
  let done = 0;
  while (done < bytes) {
    const got = readSync(fd, into, done, bytes - done, position + done);
    if (got === 0)
      throw new Error(`requests file ends at byte ${position + done}, expected ${bytes - done} more`);
    done += got;
  }
}

/**
 * A `requests.bin` file as a row source: 64 Ki rows at a time by positioned reads, so reading
 * a 72 M-row (2.9 GB) file holds 2.5 MiB of rows. Checks the header and size as
 * `decodeRequests` does; the file is opened for each pass.
 */
export function requestsFileSource(file: string, blockRows = BLOCK_ROWS): RowSource {
  assertLittleEndian();
  const fd = openSync(file, "r");
  let n: number;
  try {
    const header = Buffer.alloc(HEADER);
    const size = fstatSync(fd).size;
    if (size < HEADER) throw new Error("not a faultline requests file (bad magic)");
    readAll(fd, header, HEADER, 0);
    if (header.toString("latin1", 0, 4) !== MAGIC)
      throw new Error("not a faultline requests file (bad magic)");
    const version = header.readUInt32LE(4);
    if (version !== VERSION)
      throw new Error(`requests file format ${version} is not supported (this faultline reads ${VERSION})`);
    n = header.readUInt32LE(8);
    if (size !== requestsFileSize(n))
      throw new Error(
        `requests file is ${size} bytes; ${n} rows need ${requestsFileSize(n)} (truncated or corrupt)`,
      );
  } finally {
    closeSync(fd);
  }
  return {
    length: n,
    forEachBlock(visit, only) {
      const block = allocateColumns(Math.min(blockRows, n));
      const fdr = openSync(file, "r");
      try {
        for (let start = 0; start < n; start += blockRows) {
          const rows = Math.min(blockRows, n - start);
          let colStart = HEADER;
          for (const [key, size] of LAYOUT) {
            if (only === undefined || only.includes(key))
              readAll(fdr, view(block[key], rows * size), rows * size, colStart + start * size);
            colStart += n * size;
          }
          visit(rows === block.length ? block : sliceColumns(block, rows), start);
        }
      } finally {
        closeSync(fdr);
      }
    },
  };
}

function sliceColumns(c: RequestColumns, rows: number): RequestColumns {
  return {
    length: rows,
    intended: c.intended.subarray(0, rows),
    sent: c.sent.subarray(0, rows),
    firstByte: c.firstByte.subarray(0, rows),
    end: c.end.subarray(0, rows),
    outcome: c.outcome.subarray(0, rows),
    status: c.status.subarray(0, rows),
    bytes: c.bytes.subarray(0, rows),
    template: c.template.subarray(0, rows),
  };
}

export { ROW_BYTES };
