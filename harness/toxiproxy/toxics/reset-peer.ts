import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface ResetPeerAttributes extends Record<string, number> {
  timeout: number;
}

/**
 * On the first chunk or end of stream: drop it, wait `timeout` ms, close the link. Whether
 * the peers then see an RST or a FIN is decided by the link: only connections accepted while
 * a reset_peer toxic was already on the stream get linger 0 (see link.ts).
 */
async function pipe(stub: StubIO, attributes: ResetPeerAttributes): Promise<void> {
  const chunk = await stub.recv();
  if (chunk === INTERRUPTED) return;
  await stub.sleepUninterruptible(attributes.timeout);
  stub.close();
}

export const resetPeer: ToxicDefinition<ResetPeerAttributes> = {
  type: "reset_peer",
  goStruct: "ResetToxic",
  attributes: { timeout: "int64" },
  bufferSize: 0,
  invalid: () => null,
  pipe,
};
