import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess;
let client: OpenAI;

beforeAll(async () => {
  s = await startService();
  await waitReady(s.url, 20_000);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 30_000);
afterAll(async () => s.cleanup());

describe("the real API process and its real worker, through the official openai client", () => {
  it("chat plain and streaming", async () => {
    const r = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 4,
    });
    expect([r.object, r.choices[0]?.finish_reason, r.usage?.completion_tokens]).toEqual([
      "chat.completion",
      "length",
      4,
    ]);
    expect(r.choices[0]?.message.content?.split(" ").filter(Boolean).length).toEqual(4);
    const stream = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toEqual(6); // role, 3 tokens, finish, usage
    expect(chunks[4]?.choices[0]?.finish_reason).toEqual("length");
    expect(chunks[5]?.usage?.completion_tokens).toEqual(3);
  });

  it("completions, embeddings and models", async () => {
    const c = await client.completions.create({ model: "sim-utility", prompt: "once upon", max_tokens: 2 });
    expect([c.object, c.usage?.completion_tokens]).toEqual(["text_completion", 2]);
    const e = await client.embeddings.create({ model: "sim-embed", input: ["a", "b", "c"] });
    expect(e.data.map((d) => [d.index, d.embedding.length])).toEqual([
      [0, 16],
      [1, 16],
      [2, 16],
    ]);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["sim-utility", "sim-reasoning", "sim-embed"]);
  });

  it("/health reports the worker, VRAM and models; /metrics parses with VRAM from the heartbeat", async () => {
    const h = (await (await fetch(`${s.url}/health`)).json()) as {
      status: string;
      worker: { pid: number; state: string; restarts: number };
      vram: { totalBytes: number };
      models: { name: string; state: string }[];
    };
    expect([h.status, h.worker.state, h.worker.restarts, h.worker.pid]).toEqual([
      "ready",
      "running",
      0,
      await s.workerPid(),
    ]);
    expect(h.vram.totalBytes).toEqual(8 * 1024 ** 3);
    expect(h.models.find((m) => m.name === "sim-utility")?.state).toEqual("ready");
    const { samples } = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    expect(sampleValue(samples, "faultline_gpu_memory_total_bytes")).toEqual(8 * 1024 ** 3);
    expect(sampleValue(samples, "faultline_worker_up")).toEqual(1);
    expect(sampleValue(samples, "faultline_model_state", { model: "sim-utility", state: "ready" })).toEqual(
      1,
    );
  });
});
