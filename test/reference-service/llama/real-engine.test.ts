import OpenAI from "openai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateModel, type GeneratedModel } from "../../../reference-service/llama/model-cache.js";
import { openLlama } from "../../../reference-service/llama/runtime.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "../e2e/service-process.js";

/** A worker on the real engine with one generated tiny model as its only generation model. */
export function llamaServiceConfig(m: GeneratedModel, extra: Record<string, unknown> = {}) {
  return {
    worker: {
      engine: "llama",
      preload: "tiny",
      models: [
        {
          name: "tiny",
          device: "cpu",
          task: "generate",
          sizeBytes: m.bytes,
          loadMs: 0,
          prefillMs: 0,
          prefillMsPerToken: 0,
          msPerToken: 0,
          contextTokens: 512,
          ggufPath: m.path,
          sha256: m.sha256,
        },
      ],
      ...extra,
    },
  };
}

let dir: string;
let model: GeneratedModel;
let s: ServiceProcess;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fl-llama-"));
  model = await generateModel({ size: "tiny", seed: 1, dir });
  s = await startService([], llamaServiceConfig(model));
  await waitReady(s.url, 90_000); // node-llama-cpp tests its binary in a child process first: seconds on a busy machine
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await s?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("engine: llama serves a generated GGUF through the reference API", () => {
  it("plain chat: different prompts give different text; usage from the real tokenizer", async () => {
    const ask = (content: string) =>
      client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content }],
        max_tokens: 12,
      });
    const [a, b] = [await ask("hello world"), await ask("the quick brown fox jumps")];
    expect(a.choices[0]?.message.content).not.toEqual(b.choices[0]?.message.content);
    expect([a.usage?.completion_tokens, b.usage?.completion_tokens]).toEqual([12, 12]);
    // The service flattens chat to a prompt; count that prompt with llama.cpp's own tokenizer.
    const llama = await openLlama(1);
    const m = await llama.loadModel({ modelPath: model.path });
    try {
      const sim = await client.completions.create({
        model: "tiny",
        prompt: "once upon a time",
        max_tokens: 3,
      });
      expect(sim.usage?.prompt_tokens).toEqual(m.tokenize("once upon a time").length);
      expect(sim.usage?.prompt_tokens).not.toEqual("once upon a time".split(" ").length);
    } finally {
      await m.dispose();
    }
  }, 60_000);

  it("streaming: one chunk per real token, the same text as the plain answer", async () => {
    const messages = [{ role: "user" as const, content: "stream me something" }];
    const plain = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 8 });
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: { completion_tokens: number } | undefined | null;
    let tokens = 0;
    for await (const c of stream) {
      const d = c.choices[0]?.delta.content;
      if (d !== undefined && d !== null && d !== "") tokens++;
      text += d ?? "";
      if (c.usage) usage = c.usage;
    }
    expect(text).toEqual(plain.choices[0]?.message.content);
    expect(usage?.completion_tokens).toEqual(8);
    expect(tokens).toBeLessThanOrEqual(8);
  }, 60_000);

  it("metrics: real tokens, TTFT and load time under vLLM names, valid exposition", async () => {
    const scrape = async () => parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    const tiny = { model_name: "tiny" };
    const before = (await scrape()).samples;
    for (const content of ["one", "two"])
      await client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content }],
        max_tokens: 5,
      });
    // The heartbeat carries the worker's load time and KV use; wait one beat past the answers.
    await new Promise((r) => setTimeout(r, 600));
    const { samples, types } = await scrape();
    const delta = (name: string) =>
      (sampleValue(samples, name, tiny) ?? 0) - (sampleValue(before, name, tiny) ?? 0);
    expect(delta("vllm:generation_tokens_total")).toBe(10);
    expect(delta("vllm:time_to_first_token_seconds_count")).toBe(2);
    expect(delta("vllm:time_per_output_token_seconds_count")).toBe(2);
    const load = sampleValue(samples, "faultline_model_load_seconds", { model: "tiny" });
    expect(load).toBeGreaterThan(0);
    expect(load).toBeLessThan(30); // the worker's load watchdog default
    // The SHA-256 check (the catalog's generate fills in the hash) is measured as part of the load.
    const verify = sampleValue(samples, "faultline_model_verify_seconds", { model: "tiny" });
    expect(verify).toBeGreaterThan(0);
    expect(verify).toBeLessThanOrEqual(load ?? 0);
    expect(types.get("vllm:kv_cache_usage_perc")).toBe("gauge");
    // Idle between requests: no sequence is held.
    expect(sampleValue(samples, "vllm:kv_cache_usage_perc")).toBe(0);
  }, 60_000);
});
