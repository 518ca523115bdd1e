import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { GenerationRequest } from "../../../reference-service/backend.js";
import { VramLedger } from "../../../reference-service/gpu/ledger.js";
import { ModelManager } from "../../../reference-service/gpu/models.js";
import { embed, naturalLength, tokenText } from "../../../reference-service/gpu/synth.js";
import type { CatalogModel, ResponseEvent } from "../../../reference-service/ipc/protocol.js";
import { Engine } from "../../../reference-service/worker/engine.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const T0 = 5_000_000;

const gen: CatalogModel = {
  name: "gen",
  device: "gpu",
  task: "generate",
  sizeBytes: 2 * GiB,
  loadMs: 100,
  prefillMs: 20,
  prefillMsPerToken: 1,
  msPerToken: 10,
  embeddingDim: 4,
  contextTokens: 1024,
};
const emb: CatalogModel = {
  ...gen,
  name: "emb",
  device: "cpu",
  task: "embed",
  prefillMs: 5,
  prefillMsPerToken: 0,
};

function setup(
  o: {
    maxRunning?: number;
    maxWaiting?: number;
    totalBytes?: number;
    threshold?: number;
    kvBytesPerToken?: number;
    onKvExhausted?: "preempt" | "fail";
  } = {},
) {
  const clock = new ManualClock(T0);
  const ledger = new VramLedger({ totalBytes: o.totalBytes ?? 8 * GiB, reservedBytes: 512 * MiB });
  const models = new ModelManager({
    clock,
    ledger,
    catalog: [gen, emb],
    minKvBytes: 0,
    defaultKeepAliveMs: 600_000,
    temporaryKeepAliveMs: 300_000,
    primary: "gen",
  });
  const events: [number, string, ResponseEvent][] = [];
  const engine = new Engine({
    clock,
    models,
    ledger,
    kvBytesPerToken: o.kvBytesPerToken ?? 1 * MiB,
    onKvExhausted: o.onKvExhausted ?? "preempt",
    maxRunning: o.maxRunning ?? 4,
    maxWaiting: o.maxWaiting ?? 4,
    pressureThreshold: o.threshold ?? 0.85,
    emit: (id, ev) => events.push([clock.now() - T0, id, ev]),
  });
  return { clock, ledger, models, engine, events };
}

const req = (
  id: string,
  prompt: string,
  maxTokens: number,
  extra: Partial<GenerationRequest> = {},
): GenerationRequest => ({
  id,
  kind: "chat",
  model: "gen",
  prompt,
  maxTokens,
  stream: true,
  deadlineAtMs: T0 + 60_000,
  ...extra,
});

describe("Engine", () => {
  it("times a generation exactly: load 100, prefill 20 + 1/token, then 10 ms per token", async () => {
    const { clock, engine, events } = setup();
    engine.submit("a", req("a", "one two three", 3)); // 3 prompt tokens: prefill 23 ms
    await clock.advanceAsync(1000);
    const prompt = "one two three";
    const finish = naturalLength(prompt) > 3 ? "length" : "stop";
    expect(events).toEqual([
      [123, "a", { type: "token", index: 0, text: tokenText(prompt, 0) }],
      [133, "a", { type: "token", index: 1, text: tokenText(prompt, 1) }],
      [143, "a", { type: "token", index: 2, text: tokenText(prompt, 2) }],
      [143, "a", { type: "done", finishReason: finish, usage: { promptTokens: 3, completionTokens: 3 } }],
    ]);
    expect(engine.counters).toEqual({
      promptTokens: 3,
      generationTokens: 3,
      preemptions: 0,
      requestsFinished: 1,
      oomErrors: 0,
    });
    expect(engine.lastTokenAtMs).toBe(T0 + 143);
  });

  it("stops at the model's natural length with finish_reason stop", async () => {
    const { clock, engine, events } = setup();
    const prompt = "hello";
    const n = naturalLength(prompt);
    engine.submit("a", req("a", prompt, 1000));
    await clock.advanceAsync(10_000);
    expect(events.at(-1)).toEqual([
      100 + 21 + (n - 1) * 10,
      "a",
      { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: n } },
    ]);
  });

  it("cancel frees the slot and the KV cache at once and admits the next request", async () => {
    const { clock, engine, ledger, events } = setup({ maxRunning: 1 });
    engine.submit("a", req("a", "x", 1000));
    engine.submit("b", req("b", "y", 2));
    await clock.advanceAsync(150); // a: loaded at 100, prefill to 121, tokens at 121,131,141
    expect([engine.running, engine.waiting, ledger.kvBytes]).toEqual([1, 1, (1 + 3) * MiB]);
    expect(engine.cancel("a")).toBe(true);
    await clock.advanceAsync(0);
    expect([engine.running, engine.waiting, ledger.kvBytesOf("a")]).toEqual([1, 0, 0]);
    await clock.advanceAsync(100);
    expect([engine.running, engine.waiting, ledger.kvBytes]).toEqual([0, 0, 0]);
    expect(events.filter(([, id]) => id === "a").length).toBe(3); // nothing after the cancel
    expect(events.filter(([, id, e]) => id === "b" && e.type === "done").map(([t]) => t)).toEqual([
      150 + 21 + 10,
    ]);
  });

  it("refuses beyond the running cap plus the waiting queue", async () => {
    const { clock, engine, events } = setup({ maxRunning: 1, maxWaiting: 1 });
    engine.submit("a", req("a", "x", 2));
    engine.submit("b", req("b", "x", 2));
    engine.submit("c", req("c", "x", 2));
    expect(events).toEqual([
      [0, "c", { type: "error", code: "worker_unavailable", message: "worker queue is full" }],
    ]);
    await clock.advanceAsync(1000);
    expect(events.filter(([, , e]) => e.type === "done").map(([, id]) => id)).toEqual(["a", "b"]);
  });

  it("stops a generation at its deadline with backend_timeout", async () => {
    const { clock, engine, events, ledger } = setup();
    engine.submit("a", req("a", "x", 1000, { deadlineAtMs: T0 + 145 }));
    await clock.advanceAsync(1000);
    expect(events.map(([t, , e]) => [t, e.type])).toEqual([
      [121, "token"],
      [131, "token"],
      [141, "token"],
      [145, "error"],
    ]);
    expect(events.at(-1)?.[2]).toEqual({
      type: "error",
      code: "backend_timeout",
      message: "deadline passed in the worker (request a)",
    });
    expect(ledger.kvBytes).toBe(0);
  });

  it("fails only the request whose KV cache does not fit (CUDA OOM), others carry on", async () => {
    // 3 GiB device: 0.5 overhead + 2 weights leaves 512 MiB of KV.
    const { clock, engine, events } = setup({ totalBytes: 3 * GiB, threshold: 1 });
    const huge = Array.from({ length: 600 }, (_, i) => `w${i}`).join(" ");
    engine.submit("small", req("small", "x", 2));
    engine.submit("huge", req("huge", huge, 2));
    await clock.advanceAsync(2000);
    const byId = (id: string) => events.filter(([, i]) => i === id).map(([, , e]) => e.type);
    expect(byId("huge")).toEqual(["error"]);
    expect(events.find(([, i]) => i === "huge")?.[2]).toMatchObject({ code: "gpu_out_of_memory" });
    expect(byId("small")).toEqual(["token", "token", "done"]);
    expect(engine.counters.oomErrors).toBe(1);
  });

  describe("KV cache exhaustion (3 GiB device: 512 MiB of KV = 32 tokens of 16 MiB)", () => {
    const A = "a b c d e f g h i j"; // 10 prompt tokens, natural length 34
    const B = "k l m n o p q r s t"; // 10 prompt tokens, natural length 22
    const tokens = (events: [number, string, ResponseEvent][], id: string) =>
      events.filter(([, i, e]) => i === id && e.type === "token").map(([t]) => t);

    it("preempts the newest request, which resumes after the older one finishes and pays its prefill again", async () => {
      const { clock, engine, events, ledger } = setup({ totalBytes: 3 * GiB, kvBytesPerToken: 16 * MiB });
      engine.submit("A", req("A", A, 10));
      engine.submit("B", req("B", B, 10));
      await clock.advanceAsync(2000);
      // Load 100, prefill 20 + 10 = 30: both stream from 130; at 180 the 32 tokens are used up
      // (2 x 10 prompt + 2 x 6 generated), so at 190 B (newest) loses its KV and waits.
      expect(tokens(events, "A")).toEqual([130, 140, 150, 160, 170, 180, 190, 200, 210, 220]);
      // A finishes at 220; B takes KV for 16 tokens and recomputes: prefill 20 + 16 = 36 -> 256.
      expect(tokens(events, "B")).toEqual([130, 140, 150, 160, 170, 180, 256, 266, 276, 286]);
      expect(events.filter(([, , e]) => e.type === "done").map(([t, id]) => [t, id])).toEqual([
        [220, "A"],
        [286, "B"],
      ]);
      expect([engine.counters.preemptions, engine.counters.oomErrors, ledger.kvBytes]).toEqual([1, 0, 0]);
    });

    it("a preempted request fails at once, not at its deadline, when nobody is left to free memory", async () => {
      // The gpu-oom scenario's stall: a co-tenant takes the device while A and B stream. A's
      // next token preempts B, still does not fit and fails; B, preempted, used to wait for
      // "some request to finish" that never came (its only peer had already gone) until its deadline.
      const { clock, engine, events, ledger } = setup({ totalBytes: 3 * GiB, kvBytesPerToken: 16 * MiB });
      engine.submit("A", req("A", A, 10));
      engine.submit("B", req("B", B, 10));
      await clock.advanceAsync(150);
      ledger.setCotenantBytes(3 * GiB);
      await clock.advanceAsync(60_000);
      const ends = events.filter(([, , e]) => e.type !== "token").map(([t, id, e]) => [t, id, e.type]);
      expect(ends).toEqual([
        [160, "A", "error"],
        [160, "B", "error"],
      ]);
      expect(events.filter(([, , e]) => e.type === "error").map(([, , e]) => e)).toMatchObject([
        { code: "gpu_out_of_memory" },
        { code: "gpu_out_of_memory" },
      ]);
      expect([
        engine.running,
        engine.counters.preemptions,
        engine.counters.oomErrors,
        ledger.kvBytes,
      ]).toEqual([0, 1, 2, 0]);
    });

    it('with onKvExhausted "fail" the request that runs out gets a CUDA OOM and the other finishes', async () => {
      const { clock, engine, events } = setup({
        totalBytes: 3 * GiB,
        kvBytesPerToken: 16 * MiB,
        onKvExhausted: "fail",
      });
      engine.submit("A", req("A", A, 10));
      engine.submit("B", req("B", B, 10));
      await clock.advanceAsync(2000);
      const ends = events.filter(([, , e]) => e.type !== "token").map(([t, id, e]) => [t, id, e.type]);
      expect(ends).toEqual([
        [190, "A", "error"],
        [220, "B", "done"],
      ]);
      expect([engine.counters.preemptions, engine.counters.oomErrors]).toEqual([0, 1]);
    });
  });

  it("shrinks the batch to one request while memory use is above the pressure threshold", async () => {
    // 4 GiB device: 0.5 + 2 = 2.5 GiB = 62.5 % after load; threshold 0.6 -> pressure.
    const { clock, engine } = setup({ totalBytes: 4 * GiB, threshold: 0.6 });
    engine.submit("a", req("a", "x", 1000));
    engine.submit("b", req("b", "x", 1000));
    engine.submit("c", req("c", "x", 1000));
    await clock.advanceAsync(0);
    expect([engine.running, engine.waiting]).toEqual([3, 0]); // nothing loaded yet: no pressure
    engine.cancel("a");
    engine.cancel("b");
    engine.cancel("c");
    await clock.advanceAsync(200); // the model is now loaded: 62.5 % used
    engine.submit("d", req("d", "x", 1000));
    engine.submit("e", req("e", "x", 1000));
    await clock.advanceAsync(0);
    expect([engine.running, engine.waiting]).toEqual([1, 1]);
  });

  it("under pressure evicts an idle GPU model no queued request needs", async () => {
    const { clock, engine, ledger, models } = setup({ totalBytes: 4 * GiB, threshold: 0.6 });
    const load = models.load("gen");
    await clock.advanceAsync(100);
    expect([await load, ledger.usage]).toEqual(["ready", 0.625]);
    engine.submit("e", { ...req("e", "", 0), kind: "embedding", model: "emb", inputs: ["a"] });
    await clock.advanceAsync(0);
    expect([models.state("gen"), ledger.weightsBytes, engine.running]).toEqual(["unloaded", 0, 1]);
  });

  it("answers embeddings on a CPU model after its prefill", async () => {
    const { clock, engine, events, ledger } = setup();
    engine.submit("e", { ...req("e", "", 0), kind: "embedding", model: "emb", inputs: ["a b", "c"] });
    await clock.advanceAsync(1000);
    expect(events).toEqual([
      [
        105,
        "e",
        {
          type: "embedding",
          vectors: [embed("a b", 4), embed("c", 4)],
          usage: { promptTokens: 3, completionTokens: 0 },
        },
      ],
    ]);
    expect(ledger.weightsBytes).toBe(0); // CPU model: no VRAM
  });

  it("turns an unknown model into a model_not_found error for that request", async () => {
    const { clock, engine, events } = setup();
    engine.submit("a", req("a", "x", 1, { model: "nope" }));
    await clock.advanceAsync(0);
    expect(events.map(([, id, e]) => [id, e.type, e.type === "error" ? e.code : ""])).toEqual([
      ["a", "error", "model_not_found"],
    ]);
    expect(engine.running).toBe(0);
  });

  it("drain refuses new requests and resolves when the running ones finish", async () => {
    const { clock, engine, events } = setup();
    engine.submit("a", req("a", "x", 2));
    let drained = false;
    void engine.drain().then(() => (drained = true));
    engine.submit("b", req("b", "x", 2));
    expect(events).toEqual([
      [0, "b", { type: "error", code: "worker_unavailable", message: "worker is shutting down" }],
    ]);
    await clock.advanceAsync(130);
    expect(drained).toBe(false);
    await clock.advanceAsync(1);
    expect(drained).toBe(true);
  });
});
