import type { RequestColumns } from "./columns.js";

/**
 * Where the SLA engine reads the per-request columns from: rows in intended order, handed out
 * in consecutive blocks so that an analysis holds one block at a time, not the whole run. The
 * in-memory columns are one block; a `requests.bin` file is read 64 Ki rows at a time
 * (requestsFileSource in harness/record/requests-stream.ts), so the engine's memory does not grow with the run.
 */
export interface RowSource {
  readonly length: number;
  /**
   * Calls `visit` with each block of rows in order; `offset` is the row number of the block's
   * first row. The block's arrays may be reused for the next block: copy what must outlive
   * the call. With `only`, a source may fill just those columns (the others then hold stale
   * or zero values): a pass that reads a quarter of the columns reads a quarter of the file.
   */
  forEachBlock(
    visit: (block: RequestColumns, offset: number) => void,
    only?: readonly (keyof RequestColumns)[],
  ): void;
}

/** The in-memory columns as a source of one block. */
export function columnsSource(c: RequestColumns): RowSource {
  return {
    length: c.length,
    forEachBlock: (visit) => {
      if (c.length > 0) visit(c, 0);
    },
  };
}
