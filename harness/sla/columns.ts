import { OUTCOME_CODE, type Outcome } from "../../common/outcome.js";

/**
 * The per-request record as the SLA engine reads it: one typed column per field, one row per
 * request in order of intended send time (row i was meant to go before row i+1). Times are ms
 * from the start of the load run. A time that never happened (a request that expired in the
 * client's queue was never sent) is NaN.
 */
export interface RequestColumns {
  readonly length: number;
  readonly intended: Float64Array;
  readonly sent: Float64Array;
  readonly firstByte: Float64Array;
  readonly end: Float64Array;
  /** OUTCOME_CODE values (common/outcome.ts). */
  readonly outcome: Uint8Array;
  /** HTTP status; 0 when there was no response. */
  readonly status: Uint16Array;
  /** Response body bytes received. */
  readonly bytes: Uint32Array;
  /** Index into the load mix. */
  readonly template: Uint8Array;
}

/** One request written out by hand (tests, synthetic timelines). */
export interface RequestRow {
  readonly intended: number;
  readonly end: number;
  readonly outcome: Outcome;
  readonly sent?: number;
  readonly firstByte?: number;
  readonly status?: number;
  readonly bytes?: number;
  readonly template?: number;
}

/** Zero-filled columns for `n` requests. */
export function allocateColumns(n: number): RequestColumns {
  return {
    length: n,
    intended: new Float64Array(n),
    sent: new Float64Array(n),
    firstByte: new Float64Array(n),
    end: new Float64Array(n),
    outcome: new Uint8Array(n),
    status: new Uint16Array(n),
    bytes: new Uint32Array(n),
    template: new Uint8Array(n),
  };
}

/** Builds columns from rows; `sent` defaults to `intended`, `firstByte` to `end`. */
export function columnsFromRows(rows: readonly RequestRow[]): RequestColumns {
  const n = rows.length;
  const c = allocateColumns(n);
  rows.forEach((r, i) => {
    c.intended[i] = r.intended;
    c.sent[i] = r.sent ?? r.intended;
    c.firstByte[i] = r.firstByte ?? r.end;
    c.end[i] = r.end;
    c.outcome[i] = OUTCOME_CODE[r.outcome];
    c.status[i] = r.status ?? defaultStatus(r.outcome);
    c.bytes[i] = r.bytes ?? 0;
    c.template[i] = r.template ?? 0;
  });
  return c;
}

function defaultStatus(o: Outcome): number {
  switch (o) {
    case "ok":
    case "degraded":
      return 200;
    case "shed":
      return 503;
    case "error":
      return 500;
    case "timeout":
    case "conn":
      return 0;
    default: {
      const never: never = o;
      return never;
    }
  }
}
