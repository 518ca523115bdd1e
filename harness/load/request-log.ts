import { allocateColumns, type RequestColumns } from "../sla/columns.js";

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS; // 65,536 rows per chunk
const MASK = CHUNK - 1;

/** Outcome code of a row that has not finished yet (never stored in a finished log). */
export const PENDING_OUTCOME = 255;

/** Bytes of column storage per recorded request: 4 float64 times + u8 + u16 + u32 + u8. */
export const BYTES_PER_REQUEST = 4 * 8 + 1 + 2 + 4 + 1;

interface Chunk {
  readonly intended: Float64Array;
  readonly sent: Float64Array;
  readonly firstByte: Float64Array;
  readonly end: Float64Array;
  readonly outcome: Uint8Array;
  readonly status: Uint16Array;
  readonly bytes: Uint32Array;
  readonly template: Uint8Array;
}

function newChunk(): Chunk {
  const c: Chunk = {
    intended: new Float64Array(CHUNK),
    sent: new Float64Array(CHUNK).fill(Number.NaN),
    firstByte: new Float64Array(CHUNK).fill(Number.NaN),
    end: new Float64Array(CHUNK).fill(Number.NaN),
    outcome: new Uint8Array(CHUNK).fill(PENDING_OUTCOME),
    status: new Uint16Array(CHUNK),
    bytes: new Uint32Array(CHUNK),
    template: new Uint8Array(CHUNK),
  };
  return c;
}

/**
 * The load generator's record of every request: typed columns grown in fixed 64 Ki-row
 * chunks (no object per request, no copying while the run goes on; 40 bytes per request, so
 * a million requests take 40 MB). Rows are appended in intended-send order and completed out
 * of order as answers arrive. `columns()` joins the chunks once for the SLA engine.
 */
export class RequestLog {
  private readonly chunks: Chunk[] = [];
  private rows = 0;
  private joined: RequestColumns | null = null;

  get length(): number {
    return this.rows;
  }

  /** Appends a request due at `intended` (ms from run start); returns its row. */
  add(intended: number, template: number): number {
    const i = this.rows;
    if ((i & MASK) === 0) this.chunks.push(newChunk());
    const c = this.chunks[i >>> CHUNK_BITS];
    c.intended[i & MASK] = intended;
    c.template[i & MASK] = template;
    this.rows++;
    this.joined = null;
    return i;
  }

  setSent(i: number, t: number): void {
    this.chunk(i).sent[i & MASK] = t;
  }

  setFirstByte(i: number, t: number): void {
    this.chunk(i).firstByte[i & MASK] = t;
  }

  finish(i: number, end: number, outcome: number, status: number, bytes: number): void {
    const c = this.chunk(i);
    const k = i & MASK;
    c.end[k] = end;
    c.outcome[k] = outcome;
    c.status[k] = status;
    c.bytes[k] = Math.min(bytes, 0xffffffff);
    this.joined = null;
  }

  intended(i: number): number {
    return this.chunk(i).intended[i & MASK];
  }

  sent(i: number): number {
    return this.chunk(i).sent[i & MASK];
  }

  template(i: number): number {
    return this.chunk(i).template[i & MASK];
  }

  outcome(i: number): number {
    return this.chunk(i).outcome[i & MASK];
  }

  /** Rows still waiting for an answer. */
  pending(): number {
    let n = 0;
    for (let i = 0; i < this.rows; i++) if (this.outcome(i) === PENDING_OUTCOME) n++;
    return n;
  }

  /** Contiguous columns of every row (cached until the log changes). */
  columns(): RequestColumns {
    if (this.joined) return this.joined;
    const n = this.rows;
    const out = allocateColumns(n);
    this.chunks.forEach((c, ci) => {
      const start = ci * CHUNK;
      const len = Math.min(CHUNK, n - start);
      for (const key of COLUMN_KEYS) out[key].set(c[key].subarray(0, len), start);
    });
    this.joined = out;
    return out;
  }

  private chunk(i: number): Chunk {
    if (i < 0 || i >= this.rows) throw new RangeError(`row ${i} out of range 0..${this.rows - 1}`);
    return this.chunks[i >>> CHUNK_BITS];
  }
}

const COLUMN_KEYS = [
  "intended",
  "sent",
  "firstByte",
  "end",
  "outcome",
  "status",
  "bytes",
  "template",
] as const;
