import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

/** Forwards every chunk unchanged. Also the hidden first stub of every chain. */
export async function passThrough(stub: StubIO): Promise<void> {
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      stub.close();
      return;
    }
    await stub.send(chunk);
  }
}

export const noop: ToxicDefinition<Record<string, never>> = {
  type: "noop",
  goStruct: "NoopToxic",
  attributes: {},
  bufferSize: 0,
  invalid: () => null,
  pipe: (stub) => passThrough(stub),
};
