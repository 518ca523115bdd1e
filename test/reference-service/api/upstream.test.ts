import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processRuntime } from "../../../common/runtime.js";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { FALLBACK_HEADER } from "../../../reference-service/contract.js";
import { serveReference, type RunningService } from "../../../reference-service/serve.js";
import { upstreamErrorMessage } from "../../../reference-service/supervisor/upstream-backend.js";
import { EMBEDDING } from "./scripted-backend.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "./harness.js";

// The upstream is a real OpenAI-compatible server: another reference API with a scripted backend.
let upstream: TestService;
let front: RunningService;
let dir: string;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startWithScriptedBackend({
    retry: { maxRetries: 0 },
    fallback: { cache: false, cpuModel: false, static: false },
  });
  dir = await mkdtemp(join(tmpdir(), "fl-up-"));
  front = await serveReference(
    {
      config: {
        port: 0,
        stateDir: join(dir, "state"),
        upstream: upstream.url,
        retry: { maxRetries: 0 },
        fallback: { cache: false },
      },
    },
    { ...processRuntime(), cwd: dir },
  );
  client = new OpenAI({ baseURL: `${front.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await front.forceClose();
  await upstream.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("forward mode (--upstream)", () => {
  it("lists the upstream's models and forwards chat, streams and embeddings", async () => {
    expect((await client.models.list()).data.map((m) => m.id)).toEqual([
      "sim-utility",
      "sim-reasoning",
      "sim-embed",
    ]);
    upstream.backend.script = [
      { kind: "ok", tokens: ["up", "stream"] },
      { kind: "ok", tokens: ["a", "b", "c"] },
    ];
    const r = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hi" }],
    });
    expect([r.choices[0]?.message.content, r.usage?.completion_tokens]).toEqual(["upstream", 2]);
    expect(upstream.backend.requests.at(-1)?.prompt).toEqual("user: user: hi"); // flattened once more upstream
    const s = await client.chat.completions.create({
      model: "sim-utility",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const parts: string[] = [];
    for await (const c of s) parts.push(c.choices[0]?.delta.content ?? "");
    expect(parts.join("")).toEqual("abc");
    const e = await client.embeddings.create({ model: "sim-embed", input: "x", encoding_format: "float" });
    expect(e.data[0]?.embedding).toEqual(EMBEDDING);
  });

  it("an upstream 503 becomes a marked fallback; an unknown model a 404", async () => {
    upstream.backend.script = [{ kind: "fail", error: () => new WorkerUnavailableError("gpu node down") }];
    const res = await post(`${front.url}/v1/chat/completions`, chatBody("x"));
    expect([res.status, res.headers.get(FALLBACK_HEADER)]).toEqual([200, "cpu-model"]);
    const missing = await post(`${front.url}/v1/chat/completions`, { ...chatBody(), model: "nope" });
    expect(missing.status).toEqual(404);
  });

  it("reads error messages from every envelope shape servers use", () => {
    expect(
      [
        '{"error":{"message":"openai","type":"x","code":null}}',
        '{"object":"error","message":"old vllm"}',
        '{"error":"tgi","error_type":"validation"}',
        '{"error":"ollama"}',
        '{"error":{"code":503,"message":"llama.cpp","type":"unavailable_error"}}',
        "plain text",
      ].map(upstreamErrorMessage),
    ).toEqual(["openai", "old vllm", "tgi", "ollama", "llama.cpp", "plain text"]);
  });
});
