import { afterEach, describe, expect, it } from "vitest";
import {
  GpuOutOfMemoryError,
  ModelNotFoundError,
  WorkerUnavailableError,
} from "../../../reference-service/backend-errors.js";
import { chatBody, post, sseData, startWithScriptedBackend, type TestService } from "./harness.js";
import { parseExposition, sampleValue } from "./prom-text.js";

let t: TestService | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const down = () => new WorkerUnavailableError("worker gone");
const resumes = async (url: string, outcome: string) =>
  sampleValue(
    parseExposition(await (await fetch(`${url}/metrics`)).text()).samples,
    "faultline_stream_resumes_total",
    {
      outcome,
    },
  );

interface Chunk {
  id?: string;
  choices?: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  faultline?: { service_level: string; fallback: string };
  error?: { code: string; message: string; type: string };
}

async function streamChunks(url: string, extra: Record<string, unknown>): Promise<(Chunk | string)[]> {
  const res = await post(`${url}/v1/chat/completions`, chatBody("hi", { stream: true, ...extra }));
  expect(res.status).toEqual(200);
  return sseData(await res.text()).map((d) => (d === "[DONE]" ? d : (JSON.parse(d) as Chunk)));
}

/** Each chunk reduced to what the client sees of the answer: [content or finish, marker]. */
const view = (chunks: readonly (Chunk | string)[]) =>
  chunks.map((c) => {
    if (typeof c === "string") return c;
    if (c.error) return `error:${c.error.code}`;
    if (c.usage) return `usage:${c.usage.prompt_tokens}/${c.usage.completion_tokens}`;
    const choice = c.choices?.[0];
    const what = choice?.finish_reason ? `finish:${choice.finish_reason}` : (choice?.delta.content ?? "");
    return c.faultline ? `${what}|${c.faultline.service_level}/${c.faultline.fallback}` : what;
  });

describe("stream continuation after a mid-stream backend failure", () => {
  it("continues a stream the worker dropped after one token, in the same response, ending with [DONE]", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [
      { kind: "fail", error: down, afterTokens: 1 },
      { kind: "ok", tokens: [" rest", " of", " it"] },
    ];
    const chunks = (await streamChunks(t.url, {
      max_tokens: 4,
      stream_options: { include_usage: true },
    })) as Chunk[]; // the last element is "[DONE]", only its id is read below and is undefined
    // role, the token before the kill, the continuation's 3, finish, usage (prompt 5 - 1 sent), [DONE]
    expect(view(chunks)).toEqual([
      "",
      "partial",
      " rest",
      " of",
      " it",
      "finish:stop",
      "usage:4/4",
      "[DONE]",
    ]);
    expect(new Set(chunks.slice(0, -1).map((c) => c.id)).size).toEqual(1); // one id throughout
    const [first, second] = t.backend.requests;
    expect([second?.id, second?.prompt, second?.maxTokens, second?.deadlineAtMs]).toEqual([
      `${first?.id}-r1`,
      `${first?.prompt}partial`,
      3,
      first?.deadlineAtMs,
    ]);
    expect(t.backend.calls).toEqual(2);
    expect([await resumes(t.url, "completed"), await resumes(t.url, "failed")]).toEqual([1, 0]);
  });

  it("a continuation the worker cannot serve goes to a fallback, and its chunks are marked in-band", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 1 }, fallback: { cache: false } });
    t.backend.script = [{ kind: "fail", error: down, afterTokens: 1 }];
    t.backend.fallbackStep = { kind: "fail", error: down };
    const chunks = await streamChunks(t.url, { max_tokens: 4 });
    const v = view(chunks);
    expect(v.slice(0, 2)).toEqual(["", "partial"]);
    // 3 tokens of the CPU model (4 - 1 sent), then its finish, all marked; then [DONE].
    expect(v.slice(2).map((x) => x.replace(/^[^|]*\|/, ""))).toEqual([
      "degraded/cpu-model",
      "degraded/cpu-model",
      "degraded/cpu-model",
      "degraded/cpu-model",
      "[DONE]",
    ]);
    expect(v[5]).toEqual("finish:length|degraded/cpu-model");
    expect(t.backend.calls).toEqual(3); // the first attempt, the continuation and its one retry
    expect(await resumes(t.url, "completed")).toEqual(1);
  });

  it("a GPU out of memory mid-stream is continued by a fallback (the primary would fail again), marked", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 }, fallback: { cache: false } });
    const oom = () => new GpuOutOfMemoryError("CUDA out of memory");
    t.backend.script = [
      { kind: "fail", error: oom, afterTokens: 1 },
      { kind: "fail", error: oom },
    ];
    const chunks = await streamChunks(t.url, { max_tokens: 4 });
    const v = view(chunks);
    expect(v.slice(0, 2)).toEqual(["", "partial"]);
    expect(v.slice(2).map((x) => x.replace(/^[^|]*\|/, ""))).toEqual([
      "degraded/cpu-model",
      "degraded/cpu-model",
      "degraded/cpu-model",
      "degraded/cpu-model",
      "[DONE]",
    ]);
    // The first attempt and the continuation's one primary call: out of memory is not retried.
    expect(t.backend.calls).toEqual(2);
    expect(await resumes(t.url, "completed")).toEqual(1);
  });

  it("a failure that is not the backend's (unknown model) is not continued: one in-band error, no [DONE]", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [{ kind: "fail", error: () => new ModelNotFoundError("model gone"), afterTokens: 1 }];
    const chunks = await streamChunks(t.url, {});
    expect(view(chunks)).toEqual(["", "partial", "error:model_not_found"]);
    expect(t.backend.calls).toEqual(1);
    expect(await resumes(t.url, "not_attempted")).toEqual(1);
  });

  it("a backend timeout at the request deadline is not continued: in-band timeout error, no [DONE]", async () => {
    // 300 ms of wall clock: the deadline is a real timer in the service.
    t = await startWithScriptedBackend({ requestTimeoutMs: 300 });
    t.backend.script = [{ kind: "hang", afterTokens: 1 }];
    const chunks = await streamChunks(t.url, {});
    expect(view(chunks)).toEqual(["", "slow", "error:backend_timeout"]);
    expect([t.backend.calls, t.backend.aborted]).toEqual([1, 1]);
    expect(await resumes(t.url, "not_attempted")).toEqual(1);
  });

  it("gives up after two continuations that fail again: in-band error, no [DONE]", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [1, 2, 3].map(() => ({ kind: "fail" as const, error: down, afterTokens: 1 }));
    const chunks = await streamChunks(t.url, { max_tokens: 10 });
    expect(view(chunks)).toEqual(["", "partial", "partial", "partial", "error:worker_unavailable"]);
    expect(t.backend.requests.map((r) => r.maxTokens)).toEqual([10, 9, 8]);
    expect(t.backend.calls).toEqual(3);
    expect(await resumes(t.url, "failed")).toEqual(2);
  });

  it("all tokens sent and only the finish lost: finishes with length without calling the backend", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [{ kind: "fail", error: down, afterTokens: 2 }];
    const chunks = await streamChunks(t.url, { max_tokens: 2 });
    expect(view(chunks)).toEqual(["", "partial", " answer", "finish:length", "[DONE]"]);
    expect(t.backend.calls).toEqual(1);
  });
});
