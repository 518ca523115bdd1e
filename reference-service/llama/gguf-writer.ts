/**
 * Writes a llama-architecture GGUF v3 file with seeded random weights: a model llama.cpp
 * loads and runs (the text is gibberish; the compute, memory, KV cache, tokenizer and load
 * time are real). Layout and key names follow ggml's docs/gguf.md and llama.cpp's
 * gguf-py/gguf/constants.py. Tensors are streamed in chunks so a few-hundred-MB model never
 * sits in memory whole.
 */
import { open } from "node:fs/promises";

/** The shape of a generated model. */
export interface GgufModelSpec {
  readonly name: string;
  readonly embedding: number;
  readonly layers: number;
  readonly feedForward: number;
  readonly heads: number;
  readonly headsKv: number;
  readonly contextLength: number;
  /** Tokens beyond the 3 control and 256 byte tokens (word pieces). */
  readonly extraTokens: number;
  readonly weightType: "f32" | "f16";
  readonly seed: number;
}

/** Named sizes: tiny (~0.5 MB, loads in tens of ms), small (~50 MB), medium (~300 MB). */
export const MODEL_SIZES = {
  tiny: {
    embedding: 64,
    layers: 2,
    feedForward: 128,
    heads: 4,
    headsKv: 4,
    extraTokens: 253,
    weightType: "f32",
  },
  small: {
    embedding: 512,
    layers: 8,
    feedForward: 1024,
    heads: 8,
    headsKv: 8,
    extraTokens: 1789,
    weightType: "f16",
  },
  medium: {
    embedding: 1024,
    layers: 12,
    feedForward: 4096,
    heads: 16,
    headsKv: 16,
    extraTokens: 3837,
    weightType: "f16",
  },
} as const satisfies Record<string, Omit<GgufModelSpec, "name" | "seed" | "contextLength">>;
export type ModelSize = keyof typeof MODEL_SIZES;

export function specFor(size: ModelSize, seed: number, contextLength = 2048): GgufModelSpec {
  return { name: `faultline-${size}`, seed, contextLength, ...MODEL_SIZES[size] };
}

const ALIGNMENT = 32;
const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const GGUF_VERSION = 3;
/** gguf_metadata_value_type */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
/** ggml_type */
const GGML_TYPE = { f32: 0, f16: 1 } as const;
/** llama.cpp token types (LLAMA_TOKEN_TYPE_*). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

type MetaValue =
  | { t: "u32" | "i32" | "f32"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "string"; v: string }
  | { t: "strings"; v: readonly string[] }
  | { t: "f32s" | "i32s"; v: readonly number[] };

interface TensorInfo {
  readonly name: string;
  /** ne[0] first: the fastest-varying dimension, as GGUF stores it. */
  readonly dims: readonly number[];
  readonly type: "f32" | "f16";
  /** Norm weights are ones (a random RMS norm scale is legal but needlessly wild). */
  readonly fill: "random" | "ones";
}

/** A small seeded PRNG (mulberry32): same seed, same bytes, on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Control tokens, the 256 byte tokens SentencePiece falls back to, then seeded word pieces. */
export function vocabulary(spec: GgufModelSpec): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.byte);
  }
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  const seen = new Set(tokens);
  const rnd = seededRandom(spec.seed ^ 0x5eed);
  const pieces: string[] = [];
  for (const c of letters) pieces.push(c, `▁${c}`);
  while (pieces.length < spec.extraTokens) {
    const len = 2 + Math.floor(rnd() * 4);
    let p = rnd() < 0.5 ? "▁" : "";
    for (let i = 0; i < len; i++) p += letters[Math.floor(rnd() * rnd() * letters.length)];
    if (!seen.has(p)) {
      seen.add(p);
      pieces.push(p);
    }
  }
  for (const p of pieces.slice(0, spec.extraTokens)) {
    tokens.push(p);
    types.push(TOKEN_TYPE.normal);
  }
  // SentencePiece prefers higher scores: shorter pieces first keeps tokenization sane.
  const scores = tokens.map((t, i) => (types[i] === TOKEN_TYPE.normal ? -t.length - i * 1e-4 : 0));
  return { tokens, scores, types };
}

function metadata(spec: GgufModelSpec, vocab: ReturnType<typeof vocabulary>): [string, MetaValue][] {
  const u32 = (v: number): MetaValue => ({ t: "u32", v });
  return [
    ["general.architecture", { t: "string", v: "llama" }],
    ["general.name", { t: "string", v: spec.name }],
    ["general.alignment", u32(ALIGNMENT)],
    ["general.file_type", u32(spec.weightType === "f32" ? 0 : 1)],
    ["llama.context_length", u32(spec.contextLength)],
    ["llama.embedding_length", u32(spec.embedding)],
    ["llama.block_count", u32(spec.layers)],
    ["llama.feed_forward_length", u32(spec.feedForward)],
    ["llama.attention.head_count", u32(spec.heads)],
    ["llama.attention.head_count_kv", u32(spec.headsKv)],
    ["llama.rope.dimension_count", u32(spec.embedding / spec.heads)],
    ["llama.attention.layer_norm_rms_epsilon", { t: "f32", v: 1e-5 }],
    ["llama.vocab_size", u32(vocab.tokens.length)],
    ["tokenizer.ggml.model", { t: "string", v: "llama" }],
    ["tokenizer.ggml.tokens", { t: "strings", v: vocab.tokens }],
    ["tokenizer.ggml.scores", { t: "f32s", v: vocab.scores }],
    ["tokenizer.ggml.token_type", { t: "i32s", v: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32(0)],
    ["tokenizer.ggml.bos_token_id", u32(1)],
    ["tokenizer.ggml.eos_token_id", u32(2)],
    ["tokenizer.ggml.add_bos_token", { t: "bool", v: true }],
  ];
}

export function tensorInfos(spec: GgufModelSpec, vocabSize: number): TensorInfo[] {
  const { embedding: e, feedForward: ff, weightType: w } = spec;
  const kv = (e / spec.heads) * spec.headsKv;
  const out: TensorInfo[] = [{ name: "token_embd.weight", dims: [e, vocabSize], type: w, fill: "random" }];
  for (let i = 0; i < spec.layers; i++) {
    const b = `blk.${i}.`;
    out.push(
      { name: `${b}attn_norm.weight`, dims: [e], type: "f32", fill: "ones" },
      { name: `${b}attn_q.weight`, dims: [e, e], type: w, fill: "random" },
      { name: `${b}attn_k.weight`, dims: [e, kv], type: w, fill: "random" },
      { name: `${b}attn_v.weight`, dims: [e, kv], type: w, fill: "random" },
      { name: `${b}attn_output.weight`, dims: [e, e], type: w, fill: "random" },
      { name: `${b}ffn_norm.weight`, dims: [e], type: "f32", fill: "ones" },
      { name: `${b}ffn_gate.weight`, dims: [e, ff], type: w, fill: "random" },
      { name: `${b}ffn_up.weight`, dims: [e, ff], type: w, fill: "random" },
      { name: `${b}ffn_down.weight`, dims: [ff, e], type: w, fill: "random" },
    );
  }
  out.push(
    { name: "output_norm.weight", dims: [e], type: "f32", fill: "ones" },
    { name: "output.weight", dims: [e, vocabSize], type: w, fill: "random" },
  );
  return out;
}

const elements = (t: TensorInfo): number => t.dims.reduce((a, b) => a * b, 1);
const bytesOf = (t: TensorInfo): number => elements(t) * (t.type === "f32" ? 4 : 2);
const align = (n: number): number => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

/** A growable little-endian byte buffer for the header. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.length = this.buf.writeUInt8(v, this.length);
  }
  u32(v: number): void {
    this.room(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  i32(v: number): void {
    this.room(4);
    this.length = this.buf.writeInt32LE(v, this.length);
  }
  f32(v: number): void {
    this.room(4);
    this.length = this.buf.writeFloatLE(v, this.length);
  }
  u64(v: number): void {
    this.room(8);
    this.length = this.buf.writeBigUInt64LE(BigInt(v), this.length);
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.room(b.length);
    this.length += b.copy(this.buf, this.length);
  }
  pad(to: number): void {
    this.room(to - this.length);
    this.buf.fill(0, this.length, to);
    this.length = to;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeMeta(out: Bytes, key: string, m: MetaValue): void {
  out.str(key);
  switch (m.t) {
    case "u32":
      out.u32(T.u32);
      out.u32(m.v);
      return;
    case "i32":
      out.u32(T.i32);
      out.i32(m.v);
      return;
    case "f32":
      out.u32(T.f32);
      out.f32(m.v);
      return;
    case "bool":
      out.u32(T.bool);
      out.u8(m.v ? 1 : 0);
      return;
    case "string":
      out.u32(T.string);
      out.str(m.v);
      return;
    case "strings":
      out.u32(T.array);
      out.u32(T.string);
      out.u64(m.v.length);
      for (const s of m.v) out.str(s);
      return;
    case "f32s":
    case "i32s":
      out.u32(T.array);
      out.u32(m.t === "f32s" ? T.f32 : T.i32);
      out.u64(m.v.length);
      for (const v of m.v) {
        if (m.t === "f32s") out.f32(v);
        else out.i32(v);
      }
      return;
  }
}

/** The header (everything before the tensor data), the data offset and the total file size. */
export function ggufHeader(spec: GgufModelSpec): {
  header: Buffer;
  tensors: TensorInfo[];
  offsets: number[];
  fileBytes: number;
} {
  const vocab = vocabulary(spec);
  const meta = metadata(spec, vocab);
  const tensors = tensorInfos(spec, vocab.tokens.length);
  const out = new Bytes();
  out.u32(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.u64(tensors.length);
  out.u64(meta.length);
  for (const [k, v] of meta) writeMeta(out, k, v);
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_TYPE[t.type]);
    out.u64(offset);
    offsets.push(offset);
    offset = align(offset + bytesOf(t));
  }
  out.pad(align(out.length));
  return { header: Buffer.from(out.bytes()), tensors, offsets, fileBytes: out.length + offset };
}

/** IEEE half from a float in (-2, 2), round-toward-zero; enough for random weights. */
function toHalf(f32: Float32Array, u32: Uint32Array, v: number): number {
  f32[0] = v;
  const x = u32[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign; // tiny values flush to zero
  return sign | (exp << 10) | ((x >>> 13) & 0x3ff);
}

/** Writes the model to `path` (overwrites); returns the file size in bytes. */
export async function writeGguf(path: string, spec: GgufModelSpec): Promise<number> {
  const { header, tensors, offsets, fileBytes } = ggufHeader(spec);
  const rnd = seededRandom(spec.seed);
  const fh = await open(path, "w");
  try {
    await fh.write(header, 0, header.length, 0);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const CHUNK = 1 << 20;
    for (const [i, t] of tensors.entries()) {
      // Scaled so activations stay finite through the layers: ~ 1/sqrt(fan-in).
      const scale = 1 / Math.sqrt(t.dims[0] ?? 1);
      const width = t.type === "f32" ? 4 : 2;
      let pos = header.length + (offsets[i] ?? 0);
      let left = elements(t);
      while (left > 0) {
        const n = Math.min(left, CHUNK);
        const buf = Buffer.allocUnsafe(n * width);
        for (let j = 0; j < n; j++) {
          const v = t.fill === "ones" ? 1 : (rnd() * 2 - 1) * scale;
          if (width === 4) buf.writeFloatLE(v, j * 4);
          else buf.writeUInt16LE(toHalf(f32, u32, v), j * 2);
        }
        await fh.write(buf, 0, buf.length, pos);
        pos += buf.length;
        left -= n;
      }
    }
    await fh.truncate(fileBytes);
  } finally {
    await fh.close();
  }
  return fileBytes;
}
