import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface SlowCloseAttributes extends Record<string, number> {
  delay: number;
}

/** Passes data unchanged; at end of stream waits `delay` ms before closing. */
async function pipe(stub: StubIO, attributes: SlowCloseAttributes): Promise<void> {
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      // Interrupted while waiting: return without closing, as the real toxic does.
      if (await stub.sleep(attributes.delay)) stub.close();
      return;
    }
    await stub.send(chunk);
  }
}

export const slowClose: ToxicDefinition<SlowCloseAttributes> = {
  type: "slow_close",
  goStruct: "SlowCloseToxic",
  attributes: { delay: "int64" },
  bufferSize: 0,
  invalid: () => null,
  pipe,
};
