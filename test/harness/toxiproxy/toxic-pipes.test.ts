import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { deriveRandom } from "../../../common/random.js";
import { Chan } from "../../../harness/toxiproxy/chan.js";
import { ToxicStub } from "../../../harness/toxiproxy/stub.js";
import type { ToxicInstance } from "../../../harness/toxiproxy/toxic-instance.js";
import { toxicTypes, type ToxicTypeName } from "../../../harness/toxiproxy/toxics/index.js";
import { slicePoints } from "../../../harness/toxiproxy/toxics/slicer.js";
import type { Chunk } from "../../../harness/toxiproxy/toxics/toxic.js";

/**
 * Each toxic's pipe on one stub, driven by a ManualClock: exact times, no sockets. Inputs are
 * fed at chosen clock times; the collector records each output chunk's size and time, and
 * when the stub closed its output.
 */
function harness(type: ToxicTypeName, attributes: Record<string, number>, toxicity = 1, random = () => 0) {
  const clock = new ManualClock(0);
  const definition = toxicTypes[type];
  const input = new Chan<Chunk>();
  const output = new Chan<Chunk>();
  const stub = new ToxicStub(input, output, { clock, random });
  if ("newState" in definition && definition.newState) stub.state = definition.newState();
  const toxic: ToxicInstance = {
    name: type,
    type,
    stream: "downstream",
    direction: "downstream",
    toxicity,
    attributes,
    definition: definition,
    index: 1,
  };
  stub.run(toxic);
  const out: { bytes: number; at: number; text: string }[] = [];
  let closedAt: number | undefined;
  void (async () => {
    for (;;) {
      const chunk = await output.recv();
      if (chunk === null || typeof chunk === "symbol") {
        closedAt = clock.now();
        return;
      }
      out.push({ bytes: chunk.data.length, at: clock.now(), text: chunk.data.toString() });
    }
  })();
  const feed = (text: string | Buffer): void => {
    void input.send({ data: Buffer.from(text), timestamp: clock.monotonic() });
  };
  return { clock, stub, input, out, feed, closedAt: () => closedAt };
}

describe("toxic pipes on a manual clock", () => {
  it("latency delays each chunk from when it was read, without stacking delays", async () => {
    const h = harness("latency", { latency: 500, jitter: 0 });
    h.feed("a");
    await h.clock.advanceAsync(200);
    h.feed("b");
    await h.clock.advanceAsync(1000);
    expect(h.out).toEqual([
      { bytes: 1, at: 500, text: "a" },
      { bytes: 1, at: 700, text: "b" },
    ]);
  });

  it("latency jitter is latency + floor(r * 2j) - j", async () => {
    // r = 0.75, jitter 40: floor(0.75 * 80) - 40 = 20, so 120 ms.
    const h = harness("latency", { latency: 100, jitter: 40 }, 1, () => 0.75);
    h.feed("x");
    await h.clock.advanceAsync(500);
    expect(h.out).toEqual([{ bytes: 1, at: 120, text: "x" }]);
  });

  it("latency releases a held chunk at once when interrupted", async () => {
    const h = harness("latency", { latency: 2000, jitter: 0 });
    h.feed("held");
    await h.clock.advanceAsync(300);
    await h.stub.interrupt();
    await h.clock.advanceAsync(0);
    expect(h.out).toEqual([{ bytes: 4, at: 300, text: "held" }]);
  });

  it("bandwidth cuts a big chunk into rate*100-byte pieces, one per 100 ms", async () => {
    const h = harness("bandwidth", { rate: 10 });
    h.feed(Buffer.alloc(20_000, 1));
    await h.clock.advanceAsync(3000);
    // 20,000 bytes at 10 KB/s: 20 pieces of 1000 bytes at 100, 200, ..., 2000 ms.
    expect(h.out.map((o) => [o.bytes, o.at])).toEqual(
      Array.from({ length: 20 }, (_, i) => [1000, (i + 1) * 100]),
    );
  });

  it("timeout drops data and closes after the idle time, restarted by each chunk", async () => {
    const h = harness("timeout", { timeout: 500 });
    await h.clock.advanceAsync(300);
    h.feed("dropped");
    await h.clock.advanceAsync(2000);
    expect(h.out).toEqual([]);
    expect(h.closedAt()).toEqual(800);
  });

  it("timeout 0 drops forever and never closes", async () => {
    const h = harness("timeout", { timeout: 0 });
    h.feed("x");
    await h.clock.advanceAsync(60_000);
    expect(h.out).toEqual([]);
    expect(h.closedAt()).toEqual(undefined);
  });

  it("reset_peer drops the first chunk and closes after its timeout", async () => {
    const h = harness("reset_peer", { timeout: 300 });
    await h.clock.advanceAsync(100);
    h.feed("first");
    await h.clock.advanceAsync(1000);
    expect(h.out).toEqual([]);
    expect(h.closedAt()).toEqual(400);
  });

  it("slow_close passes data and delays the close by `delay`", async () => {
    const h = harness("slow_close", { delay: 700 });
    h.feed("bye");
    await h.clock.advanceAsync(50);
    h.input.close();
    await h.clock.advanceAsync(2000);
    expect(h.out).toEqual([{ bytes: 3, at: 0, text: "bye" }]);
    expect(h.closedAt()).toEqual(750);
  });

  it("limit_data truncates the chunk that crosses the limit, then closes", async () => {
    const h = harness("limit_data", { bytes: 10 });
    h.feed("abcdef");
    await h.clock.advanceAsync(1);
    h.feed("ghijkl");
    await h.clock.advanceAsync(1);
    expect(h.out.map((o) => o.text)).toEqual(["abcdef", "ghij"]);
    expect(h.closedAt()).toEqual(1);
  });

  it("limit_data 0 closes on the first data, not before", async () => {
    const h = harness("limit_data", { bytes: 0 });
    await h.clock.advanceAsync(100);
    expect(h.closedAt()).toEqual(undefined);
    h.feed("x");
    await h.clock.advanceAsync(1);
    expect(h.out).toEqual([]);
    expect(h.closedAt()).toEqual(100);
  });

  it("slicer with no variation halves 1000 bytes into 16 pieces of 62/63, `delay` µs apart", async () => {
    const h = harness("slicer", { average_size: 100, size_variation: 0, delay: 10_000 });
    h.feed(Buffer.alloc(1000, 2));
    await h.clock.advanceAsync(500);
    expect(h.out.map((o) => o.bytes)).toEqual(Array.from({ length: 8 }, () => [62, 63]).flat());
    expect(h.out.map((o) => o.at)).toEqual(Array.from({ length: 16 }, (_, i) => i * 10));
  });

  it("slicer pieces cover every byte and stay within average + variation", () => {
    const random = deriveRandom(42, "slicer");
    const cuts = slicePoints({ average_size: 1024, size_variation: 512, delay: 0 }, 65_536, random);
    const sizes = cuts.slice(1).map((c, i) => c - cuts[i]);
    expect(cuts[0]).toEqual(0);
    expect(cuts[cuts.length - 1]).toEqual(65_536);
    expect(sizes.reduce((a, b) => a + b, 0)).toEqual(65_536);
    expect(sizes.filter((s) => s > 1536 || s <= 0)).toEqual([]);
  });

  it("toxicity is drawn once per run: a draw at or above it runs a pass-through", async () => {
    const h = harness("latency", { latency: 500, jitter: 0 }, 0.5, () => 0.5);
    h.feed("fast");
    await h.clock.advanceAsync(0);
    expect(h.out).toEqual([{ bytes: 4, at: 0, text: "fast" }]);
  });
});
