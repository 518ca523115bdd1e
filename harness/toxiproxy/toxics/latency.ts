import { INTERRUPTED } from "../chan.js";
import type { StubIO, ToxicDefinition } from "./toxic.js";

export interface LatencyAttributes extends Record<string, number> {
  latency: number;
  jitter: number;
}

/** latency + a uniform integer draw in [-jitter, jitter), as the real toxic computes it. */
export function latencyDelay(attributes: LatencyAttributes, random: () => number): number {
  const { latency, jitter } = attributes;
  if (jitter <= 0) return latency;
  return latency + Math.floor(random() * 2 * jitter) - jitter;
}

/**
 * Delays each chunk by latency ± jitter counted from when the proxy read it, so chunks do not
 * pile their delays on each other. One loop per link keeps the order. An interrupt releases
 * the held chunk at once: nothing is dropped.
 */
async function pipe(stub: StubIO, attributes: LatencyAttributes): Promise<void> {
  for (;;) {
    const chunk = await stub.recv();
    if (chunk === INTERRUPTED) return;
    if (chunk === null) {
      stub.close();
      return;
    }
    const wait = latencyDelay(attributes, () => stub.random()) - (stub.now() - chunk.timestamp);
    const slept = await stub.sleep(wait);
    if (!slept) {
      await stub.send(chunk);
      return;
    }
    chunk.timestamp += wait;
    await stub.send(chunk);
  }
}

export const latency: ToxicDefinition<LatencyAttributes> = {
  type: "latency",
  goStruct: "LatencyToxic",
  attributes: { latency: "int64", jitter: "int64" },
  bufferSize: 1024,
  invalid: () => null,
  pipe,
};
