import { describe, expect, it } from "vitest";
import { PendingCall } from "../../../reference-service/ipc/pending-call.js";
import type { ResponseEvent } from "../../../reference-service/ipc/protocol.js";

const tok = (index: number): ResponseEvent => ({ type: "token", index, text: `t${index}` });
const done: ResponseEvent = {
  type: "done",
  finishReason: "stop",
  usage: { promptTokens: 1, completionTokens: 3 },
};

async function drain(call: PendingCall, n: number): Promise<ResponseEvent[]> {
  const out: ResponseEvent[] = [];
  for (let i = 0; i < n; i++) out.push(await call.next());
  return out;
}

describe("PendingCall", () => {
  it("puts reordered parts back in order and tracks the gap", async () => {
    const call = new PendingCall("r~1", true);
    expect(call.deliver(0, [{ type: "accepted", workerPid: 42 }, tok(0)], 100)).toBe("ok");
    expect(call.deliver(2, [tok(2), done], 110)).toBe("ok");
    expect([call.gapSinceMs, call.settled]).toEqual([110, false]);
    expect(call.deliver(1, [tok(1)], 130)).toBe("ok");
    expect([call.gapSinceMs, call.settled, call.workerPid, call.acceptedAtMs]).toEqual([
      undefined,
      true,
      42,
      100,
    ]);
    expect(await drain(call, 4)).toEqual([tok(0), tok(1), tok(2), done]);
  });

  it("reports duplicates of consumed or buffered parts", () => {
    const call = new PendingCall("r~1", true);
    call.deliver(0, [tok(0)], 0);
    call.deliver(2, [tok(2)], 0);
    expect([call.deliver(0, [tok(0)], 0), call.deliver(2, [tok(2)], 0)]).toEqual(["duplicate", "duplicate"]);
  });

  it("delivers queued events before the failure, and ignores a failure after the last event", async () => {
    const call = new PendingCall("r~1", true);
    call.deliver(0, [tok(0)], 0);
    call.fail(new Error("deadline"));
    expect(await call.next()).toEqual(tok(0));
    await expect(call.next()).rejects.toThrow("deadline");

    const finished = new PendingCall("r~2", true);
    finished.deliver(0, [done], 0);
    finished.fail(new Error("too late"));
    expect([finished.failed, await finished.next()]).toEqual([false, done]);
  });

  it("an immediate failure (abort) drops the queued events", async () => {
    const call = new PendingCall("r~1", true);
    call.deliver(0, [tok(0), tok(1)], 0);
    call.fail(new Error("aborted"), true);
    await expect(call.next()).rejects.toThrow("aborted");
  });

  it("wakes a waiting consumer when an event or a failure arrives", async () => {
    const call = new PendingCall("r~1", true);
    const first = call.next();
    call.deliver(0, [tok(0)], 0);
    expect(await first).toEqual(tok(0));
    const second = call.next();
    call.fail(new Error("worker gone"));
    await expect(second).rejects.toThrow("worker gone");
  });

  it("refuses to buffer more than 256 out-of-order parts", () => {
    const call = new PendingCall("r~1", true);
    for (let p = 1; p <= 256; p++) call.deliver(p, [tok(p)], 0);
    expect(call.deliver(1000, [tok(1000)], 0)).toBe("overflow");
  });
});
