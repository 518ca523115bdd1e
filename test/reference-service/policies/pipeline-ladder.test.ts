import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../../../reference-service/backend.js";
import {
  GpuOutOfMemoryError,
  ModelDownloadError,
  WorkerUnavailableError,
} from "../../../reference-service/backend-errors.js";
import { DEFAULT_CONFIG } from "../../../reference-service/config.js";
import { BackendBreaker } from "../../../reference-service/policies/breaker.js";
import { CpuModelBackend } from "../../../reference-service/policies/cpu-model.js";
import {
  ServingPipeline,
  type AnswerSink,
  type RecoveryActions,
  type Served,
} from "../../../reference-service/policies/pipeline.js";
import { RecoveryLadders } from "../../../reference-service/policies/recovery-ladder.js";
import { StaticAnswerBackend } from "../../../reference-service/policies/static-answer.js";
import { ScriptedBackend, type Step } from "../api/scripted-backend.js";

class CollectSink implements AnswerSink {
  readonly committed = false;
  events: string[] = [];
  reset(): void {
    this.events = [];
  }
  push(e: GenerationEvent, s: Served): void {
    this.events.push(`${s.level}/${s.backend}:${e.type}`);
  }
}

const longPrompt = Array.from({ length: 10 }, (_, i) => `w${i}`).join(" ");
const request: GenerationRequest = {
  id: "r1",
  kind: "chat",
  model: "m",
  prompt: longPrompt,
  maxTokens: 8,
  stream: false,
  deadlineAtMs: 0,
};
const oom = (): Step => ({ kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") });
const down = (): Step => ({ kind: "fail", error: () => new WorkerUnavailableError("worker down") });

function setup(
  actions: RecoveryActions,
  failureThreshold = 50,
  breakerClosesOnFreshWorker = true,
  cpuOffload?: ModelBackend,
) {
  const clock = new ManualClock();
  const backend = new ScriptedBackend();
  const counted: string[] = [];
  const breaker = new BackendBreaker("worker", { failureThreshold, halfOpenAfterMs: 60_000 }, clock);
  const ladders = new RecoveryLadders(DEFAULT_CONFIG.recovery, clock, {
    step: (l, s, o) => counted.push(`${l}/${s}=${o}`),
  });
  const pipeline = new ServingPipeline({
    primary: backend,
    breaker,
    retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
    timeoutMs: 1000,
    fallbacks: [{ level: "minimal", backend: new StaticAnswerBackend("static answer") }],
    clock,
    recovery: {
      ladders,
      cpuOffload: cpuOffload ?? new CpuModelBackend(clock, 0),
      optimizedContextTokens: 4,
      reducedMaxTokens: 2,
      pipelineWaitMs: 500,
      breakerClosesOnFreshWorker,
      actions,
    },
  });
  return { clock, backend, counted, pipeline, breaker };
}

const noDownload = (): Step => ({
  kind: "fail",
  error: () =>
    new ModelDownloadError("model 'm' could not be downloaded: attempt 3 of 3 failed (fetch failed)"),
});

describe("ServingPipeline with recovery ladders", () => {
  it("under critical host usage a failure climbs the system resource ladder: health check, clear GPU cache, fallback", async () => {
    let critical: string | null = "host memory usage 97.0% (critical above 95.0%)";
    const cleared: string[] = [];
    const { backend, counted, pipeline } = setup({
      systemCritical: () => critical,
      clearGpuCache: (keep) => {
        cleared.push(keep);
        return Promise.resolve([]);
      },
    });
    backend.fallbackStep = oom();
    const served = await pipeline.serve(request, new CollectSink(), new AbortController().signal);
    expect(served).toEqual({ level: "minimal", backend: "static" });
    expect(counted).toEqual([
      "system_resource_error/system_health_check=failed",
      "system_resource_error/clear_gpu_cache=failed",
      "system_resource_error/fallback_to_mock=answered",
    ]);
    expect(cleared).toEqual(["m"]);
    // The health check does not try the model while the host is critical: the request, then the try after clearing.
    expect(backend.requests).toHaveLength(2);

    // Healthy again by the time the ladder runs: the check tries the model, which answers in full.
    const next = setup({
      systemCritical: () => {
        const now = critical;
        critical = null; // read once to classify; the step's own reading finds the host healthy
        return now;
      },
    });
    critical = "host CPU usage 99.0% (critical above 95.0%)";
    next.backend.script = [oom()];
    expect(await next.pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "full",
      backend: "worker",
    });
    expect(next.counted).toEqual(["system_resource_error/system_health_check=answered"]);

    // Not critical: the failure climbs its own ladder.
    const calm = setup({ systemCritical: () => null, clearGpuCache: () => Promise.resolve([]) });
    calm.backend.script = [oom()];
    await calm.pipeline.serve(request, new CollectSink(), new AbortController().signal);
    expect(calm.counted).toEqual(["vram_exhaustion/clear_gpu_cache=answered"]);
  });

  it("a failed download climbs the network ladder: one more try of the model (a new download), then the fallback", async () => {
    const { backend, counted, pipeline } = setup({ clearGpuCache: () => Promise.resolve([]) });
    backend.fallbackStep = noDownload();
    const sink = new CollectSink();
    const served = await pipeline.serve(request, sink, new AbortController().signal);
    expect(served).toEqual({ level: "minimal", backend: "static" });
    expect(counted).toEqual([
      "network_error/retry_model_download=failed",
      "network_error/fallback_to_mock=answered",
    ]);
    expect(backend.requests).toHaveLength(2); // the request, and the retry step's try
    expect(sink.events.at(-1)).toEqual("minimal/static:done");

    // The retry finds the model downloaded: the model's own answer, full service.
    const next = setup({});
    next.backend.script = [noDownload()];
    expect(await next.pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "full",
      backend: "worker",
    });
    expect(next.counted).toEqual(["network_error/retry_model_download=answered"]);
  });

  it("climbs the VRAM ladder in order under a GPU OOM and marks the CPU offload's answer degraded", async () => {
    const cleared: string[] = [];
    const { backend, counted, pipeline } = setup({
      clearGpuCache: (keep) => {
        cleared.push(keep);
        return Promise.resolve(["other-model"]);
      },
    });
    backend.fallbackStep = oom();
    const sink = new CollectSink();
    const served = await pipeline.serve(request, sink, new AbortController().signal);
    expect(served).toEqual({ level: "degraded", backend: "cpu-model:enable_cpu_offload" });
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=failed",
      "vram_exhaustion/apply_vram_optimization=failed",
      "vram_exhaustion/enable_cpu_offload=answered",
    ]);
    expect(cleared).toEqual(["m"]);
    // The first attempt, after clearing the cache (the request as sent), with the context cut to 4 tokens.
    expect(backend.requests.map((r) => [r.prompt, r.maxTokens])).toEqual([
      [longPrompt, 8],
      [longPrompt, 8],
      ["w6 w7 w8 w9", 8],
    ]);
    expect(sink.events.at(-1)).toEqual("degraded/cpu-model:enable_cpu_offload:done");
  });

  it("an answer of the model as sent, after a step, is full; a changed request is degraded", async () => {
    const { backend, counted, pipeline } = setup({ clearGpuCache: () => Promise.resolve([]) });
    backend.script = [oom()];
    expect(await pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "full",
      backend: "worker",
    });
    expect(counted).toEqual(["vram_exhaustion/clear_gpu_cache=answered"]);

    const next = setup({ clearGpuCache: () => Promise.resolve([]) });
    next.backend.script = [oom(), oom()];
    expect(await next.pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "degraded",
      backend: "worker:apply_vram_optimization",
    });
  });

  it("skips what has nothing to act on, reduces max_tokens, and ends in the fallback chain", async () => {
    // No GPU cache action (an upstream or scripted primary), a prompt within the context budget,
    // and a CPU offload that fails too: the ladder goes on to the reduced parameters, then the fallback.
    const refusingCpu: ModelBackend = {
      name: "cpu-model",
      generate: () => ({
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(new GpuOutOfMemoryError("cpu offload refused")),
        }),
      }),
    };
    const { backend, counted, pipeline } = setup({}, 50, true, refusingCpu);
    backend.fallbackStep = oom();
    const short = { ...request, prompt: "hi there" };
    const served = await pipeline.serve(short, new CollectSink(), new AbortController().signal);
    expect(served).toEqual({ level: "minimal", backend: "static" });
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=skipped",
      "vram_exhaustion/apply_vram_optimization=skipped",
      "vram_exhaustion/enable_cpu_offload=failed",
      "vram_exhaustion/reduce_generation_params=failed",
      "vram_exhaustion/fallback_to_mock=answered",
    ]);
    expect(backend.requests.map((r) => r.maxTokens)).toEqual([8, 2]);
  });

  it("restart_pipeline waits for the worker on the injected clock, within the request's deadline", async () => {
    let waited: number | undefined;
    const { backend, clock, counted, pipeline } = setup({
      waitForWorker: (ms, signal) => {
        waited = ms;
        return clock.sleep(300, signal).then(() => true);
      },
    });
    backend.script = [down()];
    const p = pipeline.serve(request, new CollectSink(), new AbortController().signal);
    await clock.advanceAsync(299);
    expect(counted).toEqual(["pipeline_error/clear_gpu_cache=skipped"]);
    await clock.advanceAsync(1);
    expect(await p).toEqual({ level: "full", backend: "worker" });
    expect(waited).toEqual(500);
    expect(counted).toEqual([
      "pipeline_error/clear_gpu_cache=skipped",
      "pipeline_error/restart_pipeline=answered",
    ]);
  });

  it("does not act or try the primary while the breaker is open: those steps are skipped", async () => {
    let clears = 0;
    const { backend, breaker, counted, pipeline } = setup(
      {
        clearGpuCache: () => {
          clears++;
          return Promise.resolve([]);
        },
      },
      1,
    );
    backend.fallbackStep = oom();
    const served = await pipeline.serve(request, new CollectSink(), new AbortController().signal);
    expect(breaker.state).toEqual("open"); // the first OOM opened it
    expect(served.backend).toEqual("cpu-model:enable_cpu_offload");
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=skipped",
      "vram_exhaustion/apply_vram_optimization=skipped",
      "vram_exhaustion/enable_cpu_offload=answered",
    ]);
    expect([clears, backend.calls]).toEqual([0, 1]);

    // The next request is refused by the open breaker: it climbs the ladder of the OOM that
    // opened it (from the CPU offload, the cooldown's start), not the fallback chain.
    counted.length = 0;
    expect(await pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "degraded",
      backend: "cpu-model:enable_cpu_offload",
    });
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=skipped",
      "vram_exhaustion/apply_vram_optimization=skipped",
      "vram_exhaustion/enable_cpu_offload=answered",
    ]);
    expect(backend.calls).toEqual(1);
  });

  it("restart_pipeline does not wait while the breaker is open and will not close on a fresh worker", async () => {
    let waits = 0;
    const { backend, counted, pipeline } = setup(
      {
        waitForWorker: () => {
          waits++;
          return Promise.resolve(true);
        },
      },
      1,
      false,
    );
    backend.script = [down()];
    expect(await pipeline.serve(request, new CollectSink(), new AbortController().signal)).toEqual({
      level: "minimal",
      backend: "static",
    });
    expect(counted).toEqual([
      "pipeline_error/clear_gpu_cache=skipped",
      "pipeline_error/restart_pipeline=skipped",
      "pipeline_error/apply_vram_optimization=skipped",
      "pipeline_error/fallback_to_mock=answered",
    ]);
    expect(waits).toEqual(0);
  });
});
