import { afterEach, describe, expect, it } from "vitest";
import { GpuOutOfMemoryError } from "../../../reference-service/backend-errors.js";
import { heartbeatToMetrics } from "../../../reference-service/metrics/heartbeat-metrics.js";
import { createMetrics, recordGeneration } from "../../../reference-service/metrics/registry.js";
import { heartbeat } from "../supervisor/fake-worker.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "../api/harness.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";

const live = { running: () => 0, waiting: () => 0, inflight: () => 0 };
const exposition = async (m: ReturnType<typeof createMetrics>) => parseExposition(await m.registry.metrics());

describe("engine metrics under vLLM names", () => {
  it("one answer: e2e, TTFT, tokens, finish reason, and time per output token = decode time / (tokens - 1)", async () => {
    const m = createMetrics(live);
    recordGeneration(m, {
      model: "tiny",
      e2eMs: 1000,
      ttftMs: 100,
      finish: "length",
      usage: { promptTokens: 7, completionTokens: 10 },
    });
    const { samples, types } = await exposition(m);
    const v = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, { model_name: "tiny", ...labels });
    expect(v("vllm:e2e_request_latency_seconds_sum")).toBe(1);
    expect(v("vllm:time_to_first_token_seconds_sum")).toBe(0.1);
    expect(v("vllm:time_to_first_token_seconds_bucket", { le: "0.1" })).toBe(1);
    expect(v("vllm:time_to_first_token_seconds_bucket", { le: "0.05" })).toBe(0);
    expect(v("vllm:prompt_tokens_total")).toBe(7);
    expect(v("vllm:generation_tokens_total")).toBe(10);
    expect(v("vllm:request_success_total", { finished_reason: "length" })).toBe(1);
    expect(v("vllm:time_per_output_token_seconds_sum")).toBe(0.1);
    expect(v("vllm:time_per_output_token_seconds_count")).toBe(1);
    expect(types.get("vllm:kv_cache_usage_perc")).toBe("gauge");
    expect(types.get("faultline_model_load_seconds")).toBe("gauge");
    expect(types.get("faultline_model_verify_seconds")).toBe("gauge");
  });

  it("a one-token answer has no inter-token time; an answer without a first token no TTFT", async () => {
    const m = createMetrics(live);
    recordGeneration(m, {
      model: "a",
      e2eMs: 50,
      ttftMs: 40,
      usage: { promptTokens: 1, completionTokens: 1 },
    });
    recordGeneration(m, { model: "a", e2eMs: 30, usage: { promptTokens: 1, completionTokens: 0 } });
    const { samples } = await exposition(m);
    // No observation, no series for the label set.
    expect(
      sampleValue(samples, "vllm:time_per_output_token_seconds_count", { model_name: "a" }),
    ).toBeUndefined();
    expect(sampleValue(samples, "vllm:time_to_first_token_seconds_count", { model_name: "a" })).toBe(1);
    expect(sampleValue(samples, "vllm:e2e_request_latency_seconds_count", { model_name: "a" })).toBe(2);
  });
});

describe("engine metrics over HTTP", () => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("count the primary's answers only: a fallback answer is not the engine's", async () => {
    t = await startWithScriptedBackend({ retry: { maxRetries: 0 } });
    t.backend.script = [
      { kind: "ok", tokens: ["a", "b", "c"] },
      { kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") },
    ];
    expect((await post(`${t.url}/v1/chat/completions`, chatBody("one"))).status).toBe(200);
    expect((await post(`${t.url}/v1/chat/completions`, chatBody("two", { max_tokens: 5 }))).status).toBe(200);
    const { samples } = parseExposition(await (await fetch(`${t.url}/metrics`)).text());
    const model = chatBody().model;
    expect(sampleValue(samples, "vllm:generation_tokens_total", { model_name: model })).toBe(3);
    expect(sampleValue(samples, "vllm:time_to_first_token_seconds_count", { model_name: model })).toBe(1);
    expect(sampleValue(samples, "vllm:e2e_request_latency_seconds_count", { model_name: model })).toBe(1);
  });
});

describe("worker heartbeat as metrics", () => {
  it("GPU models resident now and the most at once over every worker; retried loads add up across workers", async () => {
    const m = createMetrics(live);
    const toMetrics = heartbeatToMetrics(m);
    const beat = (pid: number, resident: number, peak: number, loaded: number, waitMs: number) =>
      toMetrics({
        ...heartbeat(pid, 0),
        gpuModels: { resident, peak },
        loadRetries: loaded > 0 ? { "sim-utility": { loaded, failed: 0, lastWaitMs: waitMs } } : {},
      });
    const read = async () => {
      const { samples } = await exposition(m);
      return [
        sampleValue(samples, "faultline_gpu_models_resident", {}),
        sampleValue(samples, "faultline_gpu_models_resident_max", {}),
        sampleValue(samples, "faultline_model_load_retries_total", {
          model: "sim-utility",
          outcome: "loaded",
        }),
        sampleValue(samples, "faultline_model_load_retry_wait_seconds", { model: "sim-utility" }),
      ];
    };
    expect(await read()).toEqual([0, 0, undefined, undefined]);
    beat(1, 1, 2, 1, 2003);
    beat(1, 1, 2, 1, 2003); // the same worker's count again: no new retry
    expect(await read()).toEqual([1, 2, 1, 2.003]);
    beat(2, 0, 1, 1, 2010); // a new worker: its peak is lower, the service's maximum stays
    expect(await read()).toEqual([0, 2, 2, 2.01]);
  });

  it("model downloads: counters add what grew per worker, the waits by attempt, one event per change", async () => {
    const m = createMetrics(live);
    const events: string[] = [];
    const toMetrics = heartbeatToMetrics(m, (model, outcome, count) =>
      events.push(`${model}:${outcome}x${count}`),
    );
    const beat = (pid: number, failed: number, ok: number, runsFailed: number, waitsMs: number[]) =>
      toMetrics({
        ...heartbeat(pid, 0),
        downloads: {
          net: { attemptsOk: ok, attemptsFailed: failed, runsOk: ok, runsFailed, waitsMs },
        },
      });
    const read = async () => {
      const { samples } = await exposition(m);
      const v = (name: string, labels: Record<string, string>) =>
        sampleValue(samples, name, { model: "net", ...labels });
      return [
        v("faultline_model_download_attempts_total", { outcome: "failed" }),
        v("faultline_model_download_attempts_total", { outcome: "ok" }),
        v("faultline_model_downloads_total", { outcome: "downloaded" }),
        v("faultline_model_downloads_total", { outcome: "failed" }),
        v("faultline_model_download_retry_wait_seconds", { attempt: "2" }),
        v("faultline_model_download_retry_wait_seconds", { attempt: "3" }),
      ];
    };
    beat(1, 1, 0, 0, []);
    expect(await read()).toEqual([1, 0, 0, 0, undefined, undefined]);
    beat(1, 2, 1, 0, [5000, 10_001]);
    beat(1, 2, 1, 0, [5000, 10_001]); // the same counts again: nothing new
    expect(await read()).toEqual([2, 1, 1, 0, 5, 10.001]);
    beat(2, 3, 0, 1, [5001, 10_000]); // a new worker's counts add to the service's
    expect(await read()).toEqual([5, 1, 1, 1, 5.001, 10]);
    expect(events).toEqual([
      "net:attempt-failedx1",
      "net:attempt-failedx1",
      "net:downloadedx1",
      "net:attempt-failedx3",
      "net:gave-upx1",
    ]);
  });
});
