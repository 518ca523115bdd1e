import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { decodeFrame } from "../../../reference-service/ipc/frame.js";
import { responsePayloadSchema, type ResponseEvent } from "../../../reference-service/ipc/protocol.js";
import { SpoolWriter } from "../../../reference-service/ipc/spool.js";
import { ResponseWriter } from "../../../reference-service/worker/response-writer.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-rw-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function frames(): Promise<[string, number, ResponseEvent["type"][]][]> {
  const out: [string, number, ResponseEvent["type"][]][] = [];
  for (const name of (await readdir(dir)).sort()) {
    const d = decodeFrame(await readFile(join(dir, name)), responsePayloadSchema);
    if (!d.ok) throw new Error(`${name}: ${d.reason}`);
    out.push([d.requestId, d.payload.part, d.payload.events.map((e) => e.type)]);
  }
  return out;
}

const tok = (index: number): ResponseEvent => ({ type: "token", index, text: "x" });
const done: ResponseEvent = {
  type: "done",
  finishReason: "stop",
  usage: { promptTokens: 1, completionTokens: 3 },
};

describe("ResponseWriter", () => {
  it("coalesces a request's events of one event-loop turn into one frame, later ones into the next part", async () => {
    const w = new ResponseWriter(new SpoolWriter(dir), new ManualClock(7), () => undefined);
    w.send("a~1", { type: "accepted", workerPid: 1 });
    w.send("a~1", tok(0));
    w.send("a~1", tok(1));
    w.send("b~1", tok(0));
    await new Promise((r) => setImmediate(r)); // the first frames are being written now
    w.send("a~1", tok(2));
    w.send("a~1", done);
    await w.idle();
    expect(await frames()).toEqual([
      ["a~1", 0, ["accepted", "token", "token"]],
      ["b~1", 0, ["token"]],
      ["a~1", 1, ["token", "done"]],
    ]);
  });

  it("forget drops a cancelled request's pending events so idle() resolves", async () => {
    const w = new ResponseWriter(new SpoolWriter(dir), new ManualClock(0), () => undefined);
    w.send("c~1", tok(0));
    w.send("c~1", tok(1)); // not written yet: the write starts on the next turn
    w.forget("c~1");
    await w.idle();
    expect(await frames()).toEqual([]);
  });

  it("reports a failed write to its callback instead of throwing", async () => {
    const errors: string[] = [];
    const w = new ResponseWriter(new SpoolWriter(join(dir, "missing")), new ManualClock(0), (id) =>
      errors.push(id),
    );
    w.send("d~1", done);
    await w.idle();
    expect(errors).toEqual(["d~1"]);
  });
});
