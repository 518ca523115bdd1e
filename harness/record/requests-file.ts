import os from "node:os";
import type { RequestColumns } from "../sla/columns.js";

/**
 * The compact per-request file (`requests.bin`), columnar like the log in memory:
 *
 *   bytes 0-3   magic "FLRQ"
 *   bytes 4-7   format version (u32, currently 1)
 *   bytes 8-11  row count n (u32)
 *   bytes 12-15 reserved (0)
 *   then        intended, sent, firstByte, end: n float64 each (ms from the load's start; NaN = never)
 *               bytes: n u32; status: n u16; outcome: n u8 (common/outcome.ts codes); template: n u8
 *
 * Little-endian throughout; every column starts aligned to its element size, so a reader can
 * view the file's buffer without copying. 40 bytes per request: a million requests are 40 MB.
 */
export const REQUESTS_FILE = "requests.bin";
export const MAGIC = "FLRQ";
export const VERSION = 1;
export const HEADER = 16;

const F64 = ["intended", "sent", "firstByte", "end"] as const;

export function requestsFileSize(n: number): number {
  return HEADER + n * (4 * 8 + 4 + 2 + 1 + 1);
}

export function assertLittleEndian(): void {
  if (os.endianness() !== "LE")
    throw new Error("requests.bin is little-endian; this big-endian platform is not supported");
}

export function encodeRequests(c: RequestColumns): Buffer {
  assertLittleEndian();
  const n = c.length;
  const out = Buffer.alloc(requestsFileSize(n));
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(n, 8);
  let offset = HEADER;
  const put = (a: Float64Array | Uint32Array | Uint16Array | Uint8Array): void => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, offset);
    offset += a.byteLength;
  };
  for (const k of F64) put(c[k]);
  put(c.bytes);
  put(c.status);
  put(c.outcome);
  put(c.template);
  return out;
}

/** Decodes a requests file; throws with the reason when it is not one or is cut short. */
export function decodeRequests(buf: Buffer): RequestColumns {
  assertLittleEndian();
  if (buf.length < HEADER || buf.toString("latin1", 0, 4) !== MAGIC)
    throw new Error("not a faultline requests file (bad magic)");
  const version = buf.readUInt32LE(4);
  if (version !== VERSION)
    throw new Error(`requests file format ${version} is not supported (this faultline reads ${VERSION})`);
  const n = buf.readUInt32LE(8);
  if (buf.length !== requestsFileSize(n)) {
    throw new Error(
      `requests file is ${buf.length} bytes; ${n} rows need ${requestsFileSize(n)} (truncated or corrupt)`,
    );
  }
  // Copy into a fresh, aligned buffer: a Buffer from readFile may sit at any offset in a pool.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  let offset = HEADER;
  const take = <T>(make: (b: ArrayBuffer, o: number, len: number) => T, size: number): T => {
    const v = make(ab, offset, n);
    offset += n * size;
    return v;
  };
  const f64 = (): Float64Array => take((b, o, len) => new Float64Array(b, o, len), 8);
  const [intended, sent, firstByte, end] = [f64(), f64(), f64(), f64()];
  const bytes = take((b, o, len) => new Uint32Array(b, o, len), 4);
  const status = take((b, o, len) => new Uint16Array(b, o, len), 2);
  const outcome = take((b, o, len) => new Uint8Array(b, o, len), 1);
  const template = take((b, o, len) => new Uint8Array(b, o, len), 1);
  return { length: n, intended, sent, firstByte, end, outcome, status, bytes, template };
}
