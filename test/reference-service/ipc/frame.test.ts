import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decodeFrame, encodeFrame } from "../../../reference-service/ipc/frame.js";
import { requestPayloadSchema, type FrameDecodeReason } from "../../../reference-service/ipc/protocol.js";

const cancel = { type: "cancel", sentAtMs: 1000 } as const;
const good = (): Buffer => encodeFrame({ seq: 7, requestId: "req-1~1" }, cancel);
// "req-1~1" is 7 bytes: header = 19 + 7 = 26, payload follows.
const BODY_AT = 26;
const LENGTH_AT = 18;

/** Rewrites the CRC so that only the targeted defect remains. */
function fixCrc(buf: Buffer): Buffer {
  const idLen = buf.readUInt8(10);
  const bodyAt = 19 + idLen;
  const crc = crc32(buf.subarray(bodyAt), crc32(buf.subarray(4, bodyAt - 4)));
  buf.writeUInt32BE(crc, bodyAt - 4);
  return buf;
}

function withBody(body: string): Buffer {
  const b = good();
  const head = Buffer.from(b.subarray(0, BODY_AT));
  head.writeUInt32BE(Buffer.byteLength(body), LENGTH_AT);
  return fixCrc(Buffer.concat([head, Buffer.from(body)]));
}

describe("frame codec", () => {
  it("round-trips seq, requestId and payload", () => {
    expect(decodeFrame(good(), requestPayloadSchema)).toEqual({
      ok: true,
      seq: 7,
      requestId: "req-1~1",
      payload: { type: "cancel", sentAtMs: 1000 },
    });
  });

  it("lays out the header as documented", () => {
    const b = good();
    expect(b.subarray(0, 4).toString("ascii")).toBe("FLTF");
    expect(b.readUInt16BE(4)).toBe(1);
    expect(b.readUInt32BE(6)).toBe(7);
    expect(b.readUInt8(10)).toBe(7);
    expect(b.toString("ascii", 11, 18)).toBe("req-1~1");
    expect(b.readUInt32BE(LENGTH_AT)).toBe(Buffer.byteLength(JSON.stringify(cancel)));
    expect(b.length).toBe(BODY_AT + Buffer.byteLength(JSON.stringify(cancel)));
  });

  const cases: { name: string; make: () => Buffer; reason: FrameDecodeReason; max?: number }[] = [
    { name: "zero-length file", make: () => Buffer.alloc(0), reason: "empty" },
    { name: "5 bytes (inside the fixed header)", make: () => good().subarray(0, 5), reason: "truncated" },
    { name: "cut inside the requestId", make: () => good().subarray(0, 15), reason: "truncated" },
    { name: "cut inside the payload", make: () => good().subarray(0, BODY_AT + 3), reason: "truncated" },
    {
      name: "wrong magic",
      make: () => {
        const b = good();
        b.write("XXXX", 0, "ascii");
        return b;
      },
      reason: "bad-magic",
    },
    {
      name: "version 2",
      make: () => {
        const b = good();
        b.writeUInt16BE(2, 4);
        return b;
      },
      reason: "bad-version",
    },
    {
      name: "requestId length 0",
      make: () => {
        const b = good();
        b.writeUInt8(0, 10);
        return b;
      },
      reason: "bad-length",
    },
    {
      name: "trailing bytes after the payload",
      make: () => Buffer.concat([good(), Buffer.from("xx")]),
      reason: "bad-length",
    },
    {
      name: "length prefix of 4 GiB",
      make: () => {
        const b = good();
        b.writeUInt32BE(0xffffffff, LENGTH_AT);
        return b;
      },
      reason: "oversized",
    },
    { name: "payload over a 10-byte limit", make: good, reason: "oversized", max: 10 },
    {
      name: "one flipped bit in the payload",
      make: () => {
        const b = good();
        b[BODY_AT + 2] ^= 0x01;
        return b;
      },
      reason: "crc-mismatch",
    },
    {
      name: "one flipped bit in seq (header covered by the CRC)",
      make: () => {
        const b = good();
        b[9] ^= 0x80;
        return b;
      },
      reason: "crc-mismatch",
    },
    { name: "payload is not JSON", make: () => withBody("{not json"), reason: "bad-json" },
    {
      name: "payload JSON of the wrong shape",
      make: () => withBody('{"type":"explode"}'),
      reason: "bad-schema",
    },
    {
      name: "requestId with a slash (valid CRC)",
      make: () => {
        const b = good();
        b.write("/", 11, "ascii");
        return fixCrc(b);
      },
      reason: "bad-schema",
    },
  ];

  it.each(cases)("rejects $name as $reason", ({ make, reason, max }) => {
    const r = decodeFrame(make(), requestPayloadSchema, max);
    expect(r.ok ? "ok" : r.reason).toBe(reason);
  });

  it("never throws on 1000 seeded damaged buffers, and accepts only intact ones", () => {
    let s = 12345;
    const rand = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    const original = good();
    let accepted = 0;
    let intact = 0;
    for (let i = 0; i < 1000; i++) {
      const b = good();
      const flips = 1 + (rand() % 4);
      for (let f = 0; f < flips; f++) b[rand() % b.length] ^= 1 << (rand() % 8);
      const cut = rand() % 3 === 0 ? b.subarray(0, rand() % b.length) : b;
      if (cut.equals(original)) intact++; // two flips of the same bit cancel out
      const r = decodeFrame(cut, z.object({ type: z.literal("cancel"), sentAtMs: z.number() }));
      if (r.ok) accepted++;
    }
    expect(accepted).toBe(intact);
  });

  it("refuses to encode an invalid requestId or seq", () => {
    expect(() => encodeFrame({ seq: 1, requestId: "a/b" }, {})).toThrow(RangeError);
    expect(() => encodeFrame({ seq: -1, requestId: "a" }, {})).toThrow(RangeError);
    expect(() => encodeFrame({ seq: 1, requestId: "x".repeat(129) }, {})).toThrow(RangeError);
  });
});
