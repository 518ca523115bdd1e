import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDING } from "./scripted-backend.js";
import { chatBody, post, sseData, startWithScriptedBackend, type TestService } from "./harness.js";

let t: TestService;
let client: OpenAI;

beforeAll(async () => {
  t = await startWithScriptedBackend();
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => t.stop());

describe("the official openai client against the API", () => {
  it("chat, plain", async () => {
    t.backend.script = [{ kind: "ok", tokens: ["Hello", " there"] }];
    const r = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 8,
    });
    expect(r.object).toEqual("chat.completion");
    expect(r.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: "Hello there" },
        logprobs: null,
        finish_reason: "stop",
      },
    ]);
    expect(r.usage).toEqual({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
    expect(t.backend.requests.at(-1)).toMatchObject({
      kind: "chat",
      model: "sim-utility",
      prompt: "user: hi",
      maxTokens: 8,
      stream: false,
    });
  });

  it("chat, streaming with usage: role chunk, content chunks, finish chunk, usage chunk", async () => {
    t.backend.script = [{ kind: "ok", tokens: ["A", "B", "C"] }];
    const stream = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: "assistant", content: "" },
      { content: "A" },
      { content: "B" },
      { content: "C" },
      {},
      null,
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([
      null,
      null,
      null,
      null,
      "stop",
      null,
    ]);
    expect(chunks[5]?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(new Set(chunks.map((c) => c.id)).size).toEqual(1);
  });

  it("a finished stream ends with data: [DONE] and has no usage chunk unless asked", async () => {
    t.backend.script = [{ kind: "ok", tokens: ["x"] }];
    const res = await post(`${t.url}/v1/chat/completions`, chatBody("hi", { stream: true }));
    expect(res.headers.get("content-type")).toEqual("text/event-stream; charset=utf-8");
    const data = sseData(await res.text());
    expect(data.length).toEqual(4); // role, "x", finish, [DONE]
    expect(data[3]).toEqual("[DONE]");
  });

  it("completions, plain and streaming", async () => {
    t.backend.script = [
      { kind: "ok", tokens: ["one", " two"] },
      { kind: "ok", tokens: ["three"] },
    ];
    const r = await client.completions.create({ model: "sim-utility", prompt: "count", max_tokens: 4 });
    expect(r.object).toEqual("text_completion");
    expect(r.choices).toEqual([{ index: 0, text: "one two", logprobs: null, finish_reason: "stop" }]);
    const s = await client.completions.create({ model: "sim-utility", prompt: "count", stream: true });
    const texts: string[] = [];
    const finishes: (string | null)[] = [];
    for await (const c of s) {
      texts.push(c.choices[0]?.text ?? "");
      finishes.push(c.choices[0]?.finish_reason ?? null);
    }
    expect(texts).toEqual(["three", ""]);
    expect(finishes).toEqual([null, "stop"]);
  });

  it("embeddings, base64 (the SDK default) and float", async () => {
    const r = await client.embeddings.create({ model: "sim-embed", input: ["a", "b"] });
    expect(r.data.map((d) => d.embedding)).toEqual([EMBEDDING, EMBEDDING]);
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    const f = await client.embeddings.create({ model: "sim-embed", input: "a", encoding_format: "float" });
    expect(f.data[0]?.embedding).toEqual(EMBEDDING);
    expect(f.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  it("models: list and retrieve; an unknown id is a 404", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(["sim-utility", "sim-reasoning", "sim-embed"]);
    const one = await client.models.retrieve("sim-embed");
    expect(one).toMatchObject({ id: "sim-embed", object: "model", owned_by: "faultline" });
    await expect(client.models.retrieve("nope")).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });
});
