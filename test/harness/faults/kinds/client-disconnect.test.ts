import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTCOME_CODE } from "../../../../common/outcome.js";
import { FaultError } from "../../../../common/errors.js";
import { clientDisconnect } from "../../../../harness/faults/kinds/client-disconnect.js";
import type { FaultContext } from "../../../../harness/faults/injector.js";
import { deriveRandom } from "../../../../common/random.js";
import { compileLoadPlan, startLoad, type RequestTemplate } from "../../../../harness/load/index.js";
import { systemClock } from "../../../../common/clock.js";
import { sse, startServer, type TestServer } from "../../load/servers.js";

/**
 * Streams cut by the client (client-disconnect fault) against a real server that streams one
 * event every 40 ms, 10 deltas then finish and [DONE] (about 400 ms), and notes for each
 * request how many events it wrote before the client's socket closed.
 */
const EVENTS = 10;
const GAP_MS = 40;
/**
 * A whole stream cannot end sooner than this: the server paces its events GAP_MS apart. An
 * answer that ended before it was cut, however slow the machine (a bound on the server's
 * pace, not on this machine's speed: CI saw a cut stream take 211 ms under load).
 */
const WHOLE_STREAM_MIN_MS = (EVENTS - 1) * GAP_MS;
let server: TestServer;
/** Per request: events written before the connection closed, or "complete". */
let seen: (number | "complete")[] = [];

beforeAll(async () => {
  server = await startServer((_req, body, res) => {
    const prompt = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]?.content ?? "";
    const slot = seen.push(0) - 1;
    res.writeHead(200, { "content-type": "text/event-stream" });
    let written = 0;
    const timer = setInterval(() => writeNext(), GAP_MS);
    const writeNext = (): void => {
      if (prompt === "error-first" && written === 0) res.write(`data: {"error":{"message":"boom"}}\n\n`);
      else res.write(sse.delta(`t${written}`));
      written++;
      seen[slot] = written;
      if (written === EVENTS) {
        clearInterval(timer);
        res.end(sse.finish + sse.done);
        seen[slot] = "complete";
      }
    };
    res.on("close", () => clearInterval(timer));
    writeNext();
  });
});

afterAll(async () => {
  await server.close();
});

async function run(prompt: string, spec: { afterEvents: number; fraction: number } | null, rate = 20) {
  seen = [];
  const mix: RequestTemplate[] = [{ kind: "chat", stream: true, prompt, model: "m" }];
  const plan = compileLoadPlan({ rate, duration: 200, mix, seed: 7 });
  const load = startLoad(plan, { baseUrl: server.url, deadlineMs: 3000, maxInFlight: 64 });
  expect(load.setClientDisconnect?.(spec)).toBe(true);
  const result = await load.done;
  // The server learns of a hang-up when its socket closes: let those events arrive.
  await new Promise((r) => setTimeout(r, 2 * GAP_MS));
  return result;
}

describe("client-disconnect: streams cut by the client", () => {
  it("hangs up after the given number of events, counts the healthy prefix as ok, and the server sees the close", async () => {
    const r = await run("story", { afterEvents: 2, fraction: 1 });
    const c = r.columns;
    expect(c.length).toBe(4);
    expect(Array.from(c.outcome)).toEqual([0, 0, 0, 0].map(() => OUTCOME_CODE.ok));
    // Cut after the 2nd event (written at about 0 and 40 ms); the server may write one more
    // before the close reaches it on a busy machine, never the whole stream.
    for (const s of seen) expect(s === "complete" ? EVENTS : s).toBeLessThanOrEqual(3);
    expect(seen.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(c.end[i] - c.sent[i]).toBeLessThan(WHOLE_STREAM_MIN_MS);
  });

  it("a stream whose first event is an error counts as an error even though the client left", async () => {
    const r = await run("error-first", { afterEvents: 2, fraction: 1 });
    expect(Array.from(r.columns.outcome)).toEqual([0, 0, 0, 0].map(() => OUTCOME_CODE.error));
  });

  it("null reads every stream whole", async () => {
    const r = await run("story", null);
    expect(Array.from(r.columns.outcome)).toEqual([0, 0, 0, 0].map(() => OUTCOME_CODE.ok));
    expect(seen).toEqual(["complete", "complete", "complete", "complete"]);
  });

  it("cuts the share of streams the seeded draw picks", async () => {
    const r = await run("story", { afterEvents: 1, fraction: 0.5 }, 50); // 10 requests
    const draw = deriveRandom(7, "client-disconnect");
    const cut = Array.from({ length: 10 }, () => draw() < 0.5);
    const c = r.columns;
    expect(c.length).toBe(10);
    // Request i is the i-th draw. Which ones were cut is read on the client side, in send
    // order (a cut stream ends after its first event, a whole one cannot end before WHOLE_STREAM_MIN_MS): the
    // server's arrival order can differ from the send order on a busy machine.
    const endedEarly = Array.from({ length: 10 }, (_, i) => c.end[i] - c.sent[i] < WHOLE_STREAM_MIN_MS);
    expect(endedEarly).toEqual(cut);
    // And the server saw exactly that many streams closed before their end.
    expect(seen.filter((s) => s !== "complete").length).toBe(cut.filter(Boolean).length);
    expect(cut.filter(Boolean).length).toBeGreaterThan(0);
    expect(cut.filter(Boolean).length).toBeLessThan(10);
  });
});

describe("client-disconnect injector", () => {
  const ctx = (load: FaultContext["load"]): FaultContext => ({
    clock: systemClock,
    random: () => 0,
    target: {},
    targetName: "load",
    signal: new AbortController().signal,
    load,
  });

  it("is refused, naming the driver, when the load cannot cut streams (k6)", async () => {
    const params = clientDisconnect.params.parse({});
    const err = await clientDisconnect
      .inject(params, ctx({ setRateMultiplier: () => undefined }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as Error).message).toBe(
      "client-disconnect needs the built-in load generator (load.driver: builtin)",
    );
  });

  it("sets and clears the cut on the load, with defaults of 2 events and every stream", async () => {
    const calls: unknown[] = [];
    const load = {
      setRateMultiplier: () => undefined,
      setClientDisconnect: (s: unknown) => (calls.push(s), true),
    };
    const state = await clientDisconnect.inject(clientDisconnect.params.parse({}), ctx(load));
    await clientDisconnect.revert(state, { clock: systemClock, load });
    expect(calls).toEqual([{ afterEvents: 2, fraction: 1 }, null]);
    expect(clientDisconnect.describe({ afterEvents: 2, fraction: 1 }, "load")).toBe(
      "every stream cut after 2 events",
    );
    expect(clientDisconnect.describe({ afterEvents: 1, fraction: 0.25 }, "load")).toBe(
      "25% of streams cut after 1 event",
    );
  });
});
