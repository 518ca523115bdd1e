import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface SlicerAttributes extends Record<string, number> {
  average_size: number;
  size_variation: number;
  /** Microseconds. */
  delay: number;
}

/**
 * Split points of [start, end) by recursive bisection, each midpoint moved by a uniform
 * integer in [-size_variation, size_variation); a piece stops splitting once it is no longer
 * than average_size + size_variation. Returns the piece boundaries in order.
 */
export function slicePoints(attributes: SlicerAttributes, length: number, random: () => number): number[] {
  const { average_size: average, size_variation: variation } = attributes;
  const cuts: number[] = [0];
  const split = (start: number, end: number): void => {
    if (end - start - average <= variation) {
      cuts.push(end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(random() * 2 * variation) - variation;
    split(start, mid);
    split(mid, end);
  };
  split(0, length);
  return cuts;
}

/**
 * Cuts each chunk into small pieces with `delay` µs after each. Timers here have a 1 ms
 * floor, so sub-millisecond delays are owed and slept in whole milliseconds once they add
 * up (the elapsed time is what gets paid off): the average pace matches, pieces come in
 * small bursts. Interrupted, it sends the rest of the chunk whole.
 */
async function pipe(stub: StubIO, attributes: SlicerAttributes): Promise<void> {
  let owed = 0;
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      stub.close();
      return;
    }
    const cuts = slicePoints(attributes, chunk.data.length, () => stub.random());
    for (let i = 1; i < cuts.length; i++) {
      const from = cuts[i - 1];
      const to = cuts[i];
      await stub.send({ data: chunk.data.subarray(from, to), timestamp: chunk.timestamp });
      owed += attributes.delay / 1000;
      const start = stub.now();
      const slept = owed >= 1 ? await stub.sleep(Math.floor(owed)) : !stub.signal.aborted;
      owed = Math.max(0, owed - (stub.now() - start));
      if (!slept) {
        await stub.send({ data: chunk.data.subarray(to), timestamp: chunk.timestamp });
        return;
      }
    }
  }
}

export const slicer: ToxicDefinition<SlicerAttributes> = {
  type: "slicer",
  goStruct: "SlicerToxic",
  attributes: { average_size: "int", size_variation: "int", delay: "int" },
  bufferSize: 0,
  // The real server recurses forever on average_size 0 and can slice out of bounds (a
  // crash) when size_variation >= average_size.
  invalid: ({ average_size: average, size_variation: variation }) =>
    average >= 1 && variation >= 0 && variation < average
      ? null
      : "slicer needs average_size >= 1 and 0 <= size_variation < average_size",
  pipe,
};
