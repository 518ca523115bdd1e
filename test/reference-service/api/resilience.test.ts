import { afterEach, describe, expect, it } from "vitest";
import { WorkerUnavailableError, GpuOutOfMemoryError } from "../../../reference-service/backend-errors.js";
import {
  FALLBACK_HEADER,
  RETRY_COUNT_HEADER,
  SERVICE_LEVEL_HEADER,
} from "../../../reference-service/contract.js";
import { chatBody, post, sseData, startWithScriptedBackend, type TestService } from "./harness.js";
import { parseExposition, sampleValue } from "./prom-text.js";

let t: TestService | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const down = () => new WorkerUnavailableError("worker gone");
const metricsOf = async (url: string) =>
  parseExposition(await (await fetch(`${url}/metrics`)).text()).samples;

describe("policies over HTTP, with a scripted backend", () => {
  it("retries a transient failure and answers in full", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [
      { kind: "fail", error: down },
      { kind: "fail", error: down },
      { kind: "ok", tokens: ["ok"] },
    ];
    const res = await post(`${t.url}/v1/chat/completions`, chatBody());
    expect(res.status).toEqual(200);
    expect(res.headers.get(SERVICE_LEVEL_HEADER)).toEqual(null);
    expect(
      ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
    ).toEqual("ok");
    expect(t.backend.calls).toEqual(3);
    const m = await metricsOf(t.url);
    expect(
      sampleValue(m, "faultline_retries_total", { backend: "worker", reason: "worker_unavailable" }),
    ).toEqual(2);
  });

  it("does not retry a permanent failure; falls back to the CPU model, marked degraded", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 2 } });
    t.backend.script = [{ kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") }];
    const res = await post(`${t.url}/v1/chat/completions`, chatBody("new prompt", { max_tokens: 3 }));
    expect(res.status).toEqual(200);
    expect(t.backend.calls).toEqual(1);
    expect([res.headers.get(SERVICE_LEVEL_HEADER), res.headers.get(FALLBACK_HEADER)]).toEqual([
      "degraded",
      "cpu-model",
    ]);
    const body = (await res.json()) as { faultline: unknown; usage: { completion_tokens: number } };
    expect(body.faultline).toEqual({ service_level: "degraded", fallback: "cpu-model" });
    expect(body.usage.completion_tokens).toEqual(3);
    const m = await metricsOf(t.url);
    expect(
      sampleValue(m, "faultline_fallback_total", {
        from: "worker",
        to: "cpu-model",
        reason: "gpu_out_of_memory",
      }),
    ).toEqual(1);
    expect(
      sampleValue(m, "faultline_requests_total", {
        route: "/v1/chat/completions",
        outcome: "degraded",
        status: "200",
      }),
    ).toEqual(1);
  });

  it("replays the cached answer for a prompt seen before; static answer when cache and CPU model are off", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 0 }, fallback: { cpuModel: false } });
    t.backend.script = [{ kind: "ok", tokens: ["cached", " words"] }];
    t.backend.fallbackStep = { kind: "fail", error: down };
    expect((await post(`${t.url}/v1/chat/completions`, chatBody("seen"))).status).toEqual(200);
    const again = await post(`${t.url}/v1/chat/completions`, chatBody("seen"));
    expect(again.headers.get(FALLBACK_HEADER)).toEqual("cache");
    expect(
      ((await again.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
    ).toEqual("cached words");
    const other = await post(`${t.url}/v1/chat/completions`, chatBody("never seen"));
    expect([other.headers.get(SERVICE_LEVEL_HEADER), other.headers.get(FALLBACK_HEADER)]).toEqual([
      "minimal",
      "static",
    ]);
  });

  it("with no fallback left: 503 with Retry-After and retry-after-ms", async () => {
    t = await startWithScriptedBackend({
      retry: { maxRetries: 0 },
      fallback: { cache: false, cpuModel: false, static: false },
    });
    t.backend.fallbackStep = { kind: "fail", error: down };
    const res = await post(`${t.url}/v1/chat/completions`, chatBody());
    expect(res.status).toEqual(503);
    expect([res.headers.get("retry-after"), res.headers.get("retry-after-ms")]).toEqual(["1", "1000"]);
    expect(await res.json()).toEqual({
      error: { message: "worker gone", type: "service_unavailable", param: null, code: "worker_unavailable" },
    });
  });

  it("breaker opens after N failures, fails fast, half-opens and closes", async () => {
    // cockatiel's breaker reads Date.now(), not our Clock: the half-open delay is a short real one (300 ms).
    t = await startWithScriptedBackend({
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 3, halfOpenAfterMs: 300 },
      fallback: { cache: false, cpuModel: false, static: false },
    });
    t.backend.fallbackStep = { kind: "fail", error: down };
    for (let i = 0; i < 3; i++)
      expect((await post(`${t.url}/v1/chat/completions`, chatBody())).status).toEqual(503);
    const fast = await post(`${t.url}/v1/chat/completions`, chatBody());
    expect(t.backend.calls).toEqual(3); // the 4th never reached the backend
    expect(((await fast.json()) as { error: { code: string } }).error.code).toEqual("circuit_open");
    expect(Number(fast.headers.get("retry-after-ms"))).toBeGreaterThanOrEqual(1000); // clamped up from <= 300
    const ready = await fetch(`${t.url}/health/ready`);
    expect([ready.status, await ready.json()]).toMatchObject([
      503,
      { status: "dead", reason: "circuit breaker open and no fallback configured" },
    ]);
    let m = await metricsOf(t.url);
    expect(sampleValue(m, "faultline_breaker_state", { backend: "worker" })).toEqual(1);
    await new Promise((r) => setTimeout(r, 350));
    t.backend.fallbackStep = { kind: "ok" };
    expect((await post(`${t.url}/v1/chat/completions`, chatBody())).status).toEqual(200);
    m = await metricsOf(t.url);
    expect(sampleValue(m, "faultline_breaker_state", { backend: "worker" })).toEqual(0);
    const transitions = m
      .filter((s) => s.name === "faultline_breaker_transitions_total")
      .map((s) => `${s.labels.from}->${s.labels.to}=${s.value}`);
    expect(transitions.sort()).toEqual(["closed->open=1", "half_open->closed=1", "open->half_open=1"]);
    expect((await fetch(`${t.url}/health/ready`)).status).toEqual(200);
  });

  it("a stream that fails before its first token is retried, then served by a fallback with marked headers", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 1 }, fallback: { cache: false } });
    t.backend.fallbackStep = { kind: "fail", error: down };
    const res = await post(`${t.url}/v1/chat/completions`, chatBody("hi", { stream: true, max_tokens: 2 }));
    expect([res.status, res.headers.get(SERVICE_LEVEL_HEADER), res.headers.get(FALLBACK_HEADER)]).toEqual([
      200,
      "degraded",
      "cpu-model",
    ]);
    const data = sseData(await res.text());
    expect(data.length).toEqual(5); // role, 2 tokens, finish, [DONE]
    expect(JSON.parse(data[0] ?? "").faultline).toEqual({ service_level: "degraded", fallback: "cpu-model" });
    expect(t.backend.calls).toEqual(2);
  });

  it("a client that disconnects mid-stream aborts the backend call and frees its slot", async () => {
    t = await startWithScriptedBackend({});
    t.backend.script = [{ kind: "ok", tokens: Array.from({ length: 200 }, () => "tok "), tokenMs: 10 }];
    const ctrl = new AbortController();
    const res = await post(`${t.url}/v1/chat/completions`, chatBody("hi", { stream: true }), {});
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await reader.cancel();
    for (let i = 0; i < 100 && t.svc.api.inflight() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.backend.aborted).toEqual(1);
    expect(t.svc.api.inflight()).toEqual(0);
    const m = await metricsOf(t.url);
    expect(sampleValue(m, "vllm:num_requests_running")).toEqual(0);
    expect(sampleValue(m, "faultline_requests_total", { outcome: "client_closed" })).toEqual(1);
  });

  it("beyond concurrency + queue: 429 with a Retry-After from the live queue", async () => {
    t = await startWithScriptedBackend({ admission: { maxConcurrent: 1, maxQueue: 1 } });
    t.backend.fallbackStep = { kind: "hang" };
    const ctrls = [new AbortController(), new AbortController()];
    const held = ctrls.map((c) =>
      fetch(`${t!.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify(chatBody()),
        signal: c.signal,
      }).catch(() => undefined),
    );
    for (let i = 0; i < 100 && t.svc.api.inflight() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const res = await post(`${t.url}/v1/chat/completions`, chatBody());
    expect(res.status).toEqual(429);
    // No completion observed yet: 1 s for the queued one, 2 s for the newcomer's own place
    // (promised places drain at half the rate).
    expect([res.headers.get("retry-after"), res.headers.get("retry-after-ms")]).toEqual(["3", "3000"]);
    expect(((await res.json()) as { error: { type: string; code: string } }).error).toMatchObject({
      type: "rate_limit_error",
      code: "capacity_exceeded",
    });
    ctrls.forEach((c) => c.abort());
    await Promise.all(held);
    const m = await metricsOf(t.url);
    expect(sampleValue(m, "faultline_rejections_total", { code: "429", reason: "queue_full" })).toEqual(1);
  });

  it("a refusal promises a place: the next refusal is told to wait longer, and a marked retry gets in past the full queue", async () => {
    t = await startWithScriptedBackend({ admission: { maxConcurrent: 1, maxQueue: 1 } });
    t.backend.fallbackStep = { kind: "hang" };
    const ctrls = [new AbortController(), new AbortController(), new AbortController()];
    const send = (c: AbortController, headers: Record<string, string> = {}) =>
      fetch(`${t!.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(chatBody()),
        signal: c.signal,
      }).catch(() => undefined);
    const held = [send(ctrls[0]), send(ctrls[1])];
    for (let i = 0; i < 100 && t.svc.api.inflight() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const first = await post(`${t.url}/v1/chat/completions`, chatBody());
    // The promised place is work ahead of the next client refused: 1 + 2 x 2 s, not 1 + 2 s.
    const second = await post(`${t.url}/v1/chat/completions`, chatBody(), { [RETRY_COUNT_HEADER]: "0" });
    expect([first.status, first.headers.get("retry-after")]).toEqual([429, "3"]);
    expect([second.status, second.headers.get("retry-after")]).toEqual([429, "5"]);
    held.push(send(ctrls[2], { [RETRY_COUNT_HEADER]: "1" }));
    for (let i = 0; i < 100 && t.svc.api.inflight() < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.svc.api.inflight()).toEqual(3);
    ctrls.forEach((c) => c.abort());
    await Promise.all(held);
    const m = await metricsOf(t.url);
    expect(sampleValue(m, "faultline_rejections_total", { code: "429", reason: "queue_full" })).toEqual(2);
  });

  it("/metrics is valid exposition with default process metrics and the contract names", async () => {
    t = await startWithScriptedBackend({});
    await post(`${t.url}/v1/chat/completions`, chatBody());
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const { types, samples } = parseExposition(text);
    for (const name of [
      "process_cpu_user_seconds_total",
      "faultline_breaker_state",
      "faultline_rejections_total",
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "faultline_requests_lost_total",
      "faultline_request_duration_seconds",
    ])
      expect([name, types.has(name)]).toEqual([name, true]);
    expect(
      sampleValue(samples, "faultline_requests_total", {
        route: "/v1/chat/completions",
        outcome: "ok",
        status: "200",
      }),
    ).toEqual(1);
    expect(
      sampleValue(samples, "faultline_request_duration_seconds_count", {
        route: "/v1/chat/completions",
        outcome: "ok",
      }),
    ).toEqual(1);
  });
});
