import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface BandwidthAttributes extends Record<string, number> {
  rate: number;
}

const FLUSH_MS = 5000;
const PIECE_MS = 100;

/**
 * Caps throughput at `rate` KB/s (1 KB = 1000 bytes). Each chunk adds len/rate ms of debt;
 * a chunk bigger than 100 ms worth is cut into rate*100-byte pieces, one every 100 ms, and
 * the rest of the debt is slept off, subtracting the time actually slept so timer error does
 * not accumulate. Interrupted, it forwards what is left of the chunk unthrottled.
 */
async function pipe(stub: StubIO, attributes: BandwidthAttributes): Promise<void> {
  const { rate } = attributes;
  const pieceBytes = rate * PIECE_MS;
  let debt = 0;
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      stub.close();
      return;
    }
    debt += chunk.data.length / rate;
    let rest = chunk.data;
    while (rest.length > pieceBytes) {
      if (!(await stub.sleep(PIECE_MS))) {
        await stub.sendWithin({ data: rest, timestamp: chunk.timestamp }, FLUSH_MS);
        return;
      }
      await stub.send({ data: rest.subarray(0, pieceBytes), timestamp: chunk.timestamp });
      rest = rest.subarray(pieceBytes);
      debt -= PIECE_MS;
    }
    const start = stub.now();
    if (!(await stub.sleep(debt))) {
      await stub.sendWithin({ data: rest, timestamp: chunk.timestamp }, FLUSH_MS);
      return;
    }
    debt -= stub.now() - start;
    await stub.send({ data: rest, timestamp: chunk.timestamp });
  }
}

export const bandwidth: ToxicDefinition<BandwidthAttributes> = {
  type: "bandwidth",
  goStruct: "BandwidthToxic",
  attributes: { rate: "int64" },
  bufferSize: 0,
  // The real server stalls the stream forever on 0 and crashes on a negative rate.
  invalid: ({ rate }) => (rate > 0 ? null : "rate must be > 0 (KB/s); use a timeout toxic to stop data"),
  pipe,
};
