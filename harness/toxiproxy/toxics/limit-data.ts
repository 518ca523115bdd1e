import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface LimitDataAttributes extends Record<string, number> {
  bytes: number;
}

/** Bytes passed so far on this link; survives interrupts, reset when the toxic is re-added. */
export interface LimitDataState {
  transmitted: number;
}

/** Lets `bytes` through per connection and direction, truncating the chunk that crosses, then closes. */
async function pipe(stub: StubIO, attributes: LimitDataAttributes): Promise<void> {
  const state = stub.state as LimitDataState;
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      stub.close();
      return;
    }
    const remaining = Math.max(0, attributes.bytes - state.transmitted);
    const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
    if (data.length > 0) {
      await stub.send({ data, timestamp: chunk.timestamp });
      state.transmitted += data.length;
    }
    if (attributes.bytes - state.transmitted <= 0) {
      stub.close();
      return;
    }
  }
}

export const limitData: ToxicDefinition<LimitDataAttributes> = {
  type: "limit_data",
  goStruct: "LimitDataToxic",
  attributes: { bytes: "int64" },
  bufferSize: 0,
  invalid: () => null,
  newState: (): LimitDataState => ({ transmitted: 0 }),
  pipe,
};
