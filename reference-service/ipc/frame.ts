/**
 * Frame codec (layout in protocol.ts). Decoding never throws on bad bytes: it returns a tagged
 * result, because a corrupt frame is an expected event to count and quarantine, not a bug.
 */
import { crc32 } from "node:zlib"; // zlib.crc32 exists since Node 20.15; package.json requires >= 20.19
import type { z } from "zod";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  FRAME_HEADER_FIXED_BYTES,
  FRAME_MAGIC,
  FRAME_VERSION,
  MAX_REQUEST_ID_BYTES,
  REQUEST_ID_PATTERN,
  type FrameDecodeReason,
} from "./protocol.js";

const MAGIC = Buffer.from(FRAME_MAGIC, "ascii");
const ID_OFFSET = 11;

export interface FrameHeader {
  readonly seq: number;
  readonly requestId: string;
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly seq: number; readonly requestId: string; readonly payload: T }
  | { readonly ok: false; readonly reason: FrameDecodeReason; readonly detail: string };

export function encodeFrame(header: FrameHeader, payload: unknown): Buffer {
  const id = Buffer.from(header.requestId, "ascii");
  if (id.length < 1 || id.length > MAX_REQUEST_ID_BYTES || !REQUEST_ID_PATTERN.test(header.requestId)) {
    throw new RangeError(`requestId must be 1..${MAX_REQUEST_ID_BYTES} chars of [A-Za-z0-9._:~-]`);
  }
  if (!Number.isInteger(header.seq) || header.seq < 0 || header.seq > 0xffffffff) {
    throw new RangeError(`seq must be a uint32, got ${header.seq}`);
  }
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  const head = Buffer.alloc(FRAME_HEADER_FIXED_BYTES + id.length);
  MAGIC.copy(head, 0);
  head.writeUInt16BE(FRAME_VERSION, 4);
  head.writeUInt32BE(header.seq, 6);
  head.writeUInt8(id.length, 10);
  id.copy(head, ID_OFFSET);
  const lengthAt = ID_OFFSET + id.length;
  head.writeUInt32BE(body.length, lengthAt);
  head.writeUInt32BE(checksum(head.subarray(4, lengthAt + 4), body), lengthAt + 4);
  return Buffer.concat([head, body]);
}

function checksum(headerPart: Buffer, body: Buffer): number {
  return crc32(body, crc32(headerPart));
}

type HeaderResult =
  | { ok: true; seq: number; requestId: string; bodyAt: number; length: number; crc: number }
  | { ok: false; reason: FrameDecodeReason; detail: string };

function fail(
  reason: FrameDecodeReason,
  detail: string,
): { ok: false; reason: FrameDecodeReason; detail: string } {
  return { ok: false, reason, detail };
}

function decodeHeader(buf: Buffer, maxPayloadBytes: number): HeaderResult {
  if (buf.length === 0) return fail("empty", "zero-length frame");
  if (buf.length < ID_OFFSET) return fail("truncated", `only ${buf.length} bytes, header needs more`);
  if (!buf.subarray(0, 4).equals(MAGIC))
    return fail("bad-magic", `magic ${buf.subarray(0, 4).toString("hex")}`);
  const version = buf.readUInt16BE(4);
  if (version !== FRAME_VERSION) return fail("bad-version", `version ${version}, expected ${FRAME_VERSION}`);
  const idLength = buf.readUInt8(10);
  if (idLength < 1 || idLength > MAX_REQUEST_ID_BYTES)
    return fail("bad-length", `requestId length ${idLength}`);
  const bodyAt = FRAME_HEADER_FIXED_BYTES + idLength;
  if (buf.length < bodyAt) return fail("truncated", `only ${buf.length} bytes, header needs ${bodyAt}`);
  const length = buf.readUInt32BE(ID_OFFSET + idLength);
  if (length > maxPayloadBytes)
    return fail("oversized", `declared payload ${length} > max ${maxPayloadBytes}`);
  if (buf.length < bodyAt + length) {
    return fail("truncated", `payload has ${buf.length - bodyAt} of ${length} declared bytes`);
  }
  if (buf.length > bodyAt + length) {
    return fail("bad-length", `${buf.length - bodyAt - length} bytes after the declared payload`);
  }
  const requestId = buf.toString("ascii", ID_OFFSET, ID_OFFSET + idLength);
  return { ok: true, seq: buf.readUInt32BE(6), requestId, bodyAt, length, crc: buf.readUInt32BE(bodyAt - 4) };
}

/** Validates magic, version, lengths, CRC, JSON and the payload schema, in that order. */
export function decodeFrame<S extends z.ZodType>(
  buf: Buffer,
  schema: S,
  maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
): DecodeResult<z.output<S>> {
  const h = decodeHeader(buf, maxPayloadBytes);
  if (!h.ok) return h;
  const body = buf.subarray(h.bodyAt, h.bodyAt + h.length);
  const actual = checksum(buf.subarray(4, h.bodyAt - 4), body);
  if (actual !== h.crc)
    return fail("crc-mismatch", `crc ${actual.toString(16)} != declared ${h.crc.toString(16)}`);
  // Checked after the CRC: a valid CRC over a bad id means the writer sent it, so it is schema.
  if (!REQUEST_ID_PATTERN.test(h.requestId)) return fail("bad-schema", "requestId has invalid characters");
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (e) {
    return fail("bad-json", (e as Error).message);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return fail("bad-schema", parsed.error.issues.map(describeIssue).join("; "));
  return { ok: true, seq: h.seq, requestId: h.requestId, payload: parsed.data };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}
