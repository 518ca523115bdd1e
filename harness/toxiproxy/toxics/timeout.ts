import { INTERRUPTED } from "../chan.js";
import { TIMED_OUT, type StubIO, type ToxicDefinition } from "./toxic.js";

export interface TimeoutAttributes extends Record<string, number> {
  timeout: number;
}

/**
 * Drops every byte. With timeout > 0 it closes the link after `timeout` ms without data: an
 * idle timer, restarted by each dropped chunk. With 0 it never closes. Removing it closes
 * the connection (cleanup), so data it swallowed can never be mistaken for delivered.
 */
async function pipe(stub: StubIO, attributes: TimeoutAttributes): Promise<void> {
  const { timeout } = attributes;
  for (;;) {
    const chunk = timeout > 0 ? await stub.recvWithin(timeout) : await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null || chunk === TIMED_OUT) {
      stub.close();
      return;
    }
  }
}

export const timeout: ToxicDefinition<TimeoutAttributes> = {
  type: "timeout",
  goStruct: "TimeoutToxic",
  attributes: { timeout: "int64" },
  bufferSize: 0,
  invalid: () => null,
  cleanup: (stub) => stub.close(),
  pipe,
};
