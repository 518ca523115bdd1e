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

/** Where a streaming log hands its finished chunks (harness/record RequestsFileWriter). */
export interface RowSink {
  append(c: RequestColumns, from: number, to: number): void;
}

/**
 * The load generator's record of every request: typed columns grown in fixed 64 Ki-row
 * chunks (no object per request, no copying while the run goes on; 40 bytes per request).
 * Rows are appended in intended-send order and completed out of order as answers arrive.
 *
 * Without a sink every row stays in memory and `columns()` joins the chunks once for the SLA
 * engine (tests, short runs). With a sink the log streams: whenever a chunk and every chunk
 * before it have no row waiting for an answer, it goes to the sink and is dropped, so memory
 * holds only the chunks spanning the requests still in flight (a deadline's worth of rows),
 * whatever the run's length; `close()` hands over the rest.
 */
export class RequestLog {
  private readonly chunks: (Chunk | null)[] = [];
  /** Rows of each chunk still waiting for an answer. */
  private readonly waiting: number[] = [];
  /** Chunks already handed to the sink (they are the first `released`). */
  private released = 0;
  private closed = false;
  private rows = 0;
  private joined: RequestColumns | null = null;

  constructor(private readonly sink: RowSink | null = null) {}

  get length(): number {
    return this.rows;
  }

  /** Appends a request due at `intended` (ms from run start); returns its row. */
  add(intended: number, template: number): number {
    if (this.closed) throw new Error("request log already closed");
    const i = this.rows;
    if ((i & MASK) === 0) {
      this.release(false);
      this.chunks.push(newChunk());
      this.waiting.push(0);
    }
    const c = this.chunks[i >>> CHUNK_BITS] as Chunk;
    this.waiting[i >>> CHUNK_BITS]++;
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
    if (c.outcome[k] === PENDING_OUTCOME) this.waiting[i >>> CHUNK_BITS]--;
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
    return this.waiting.reduce((s, w) => s + w, 0);
  }

  /** Chunks held in memory (streaming logs keep only those spanning unanswered rows). */
  get chunksHeld(): number {
    return this.chunks.length - this.released;
  }

  /**
   * Hands every leading chunk with no row waiting to the sink and drops it. The chunk rows are
   * still being appended to stays unless `all` (the end of the run: it goes too, cut to the
   * rows it has, whatever they still wait for).
   */
  private release(all: boolean): void {
    if (this.sink === null) return;
    const last = all ? this.chunks.length : this.chunks.length - 1;
    while (this.released < last && (all || this.waiting[this.released] === 0)) {
      const ci = this.released;
      const c = this.chunks[ci] as Chunk;
      const len = Math.min(CHUNK, this.rows - ci * CHUNK);
      this.sink.append({ length: CHUNK, ...c }, 0, len);
      this.chunks[ci] = null;
      this.released++;
    }
  }

  /** End of the run: a streaming log hands over every row still held; nothing can be added. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release(true);
  }

  /** Contiguous columns of every row (cached until the log changes); not for a streaming log. */
  columns(): RequestColumns {
    if (this.sink !== null)
      throw new Error("this request log streams its rows to a requests file: read them from there");
    if (this.joined) return this.joined;
    const n = this.rows;
    const out = allocateColumns(n);
    this.chunks.forEach((c, ci) => {
      if (c === null) return;
      const start = ci * CHUNK;
      const len = Math.min(CHUNK, n - start);
      for (const key of COLUMN_KEYS) out[key].set(c[key].subarray(0, len), start);
    });
    this.joined = out;
    return out;
  }

  private chunk(i: number): Chunk {
    if (i < 0 || i >= this.rows) throw new RangeError(`row ${i} out of range 0..${this.rows - 1}`);
    const c = this.chunks[i >>> CHUNK_BITS];
    if (c === null || c === undefined)
      throw new RangeError(`row ${i} was already written to the requests file`);
    return c;
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
