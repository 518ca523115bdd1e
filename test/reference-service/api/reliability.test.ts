import { afterEach, describe, expect, it } from "vitest";
import { GpuOutOfMemoryError, WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { SERVICE_LEVEL_HEADER } from "../../../reference-service/contract.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "./harness.js";
import { parseExposition } from "./prom-text.js";

const TOKEN = "reliability-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
const down = () => new WorkerUnavailableError("worker down");

let t: TestService | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const status = async (url: string) => {
  const r = await fetch(`${url}/v1/reliability`);
  expect([r.status, r.headers.get("content-type"), r.headers.get("cache-control")]).toEqual([
    200,
    "application/json",
    "no-store",
  ]);
  return (await r.json()) as {
    breakers: {
      state: string;
      openedAt: string | null;
      halfOpenAt: string | null;
      msUntilHalfOpen: number;
    }[];
  } & Record<string, unknown>;
};

const transitions = async (url: string) =>
  parseExposition(await (await fetch(`${url}/metrics`)).text())
    .samples.filter((s) => s.name === "faultline_breaker_transitions_total")
    .map((s) => `${s.labels.from}->${s.labels.to}=${s.value}`)
    .sort();

async function openBreaker(): Promise<TestService> {
  const svc = await startWithScriptedBackend({
    adminToken: TOKEN,
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
  });
  svc.backend.fallbackStep = { kind: "fail", error: down };
  // Each failure is answered by the fallback chain (200, degraded); the breaker counts it.
  for (let i = 0; i < 2; i++)
    expect((await post(`${svc.url}/v1/chat/completions`, chatBody())).status).toEqual(200);
  return svc;
}

describe("GET /v1/reliability", () => {
  it("reports each breaker with its failure count and half-open time, retries, worker, admission and the fallback chain", async () => {
    t = await openBreaker();
    const body = await status(t.url);
    expect(body).toEqual({
      object: "reliability.status",
      time: expect.any(String),
      status: "degraded",
      ready: true,
      reason: "circuit breaker open; fallbacks answer",
      serviceLevel: "degraded",
      breakers: [
        {
          name: "worker",
          state: "open",
          consecutiveFailures: 2,
          ...t.svc.config.breaker,
          openedAt: expect.any(String),
          halfOpenAt: expect.any(String),
          msUntilHalfOpen: expect.any(Number),
        },
      ],
      retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 2, requestTimeoutMs: 30_000 },
      worker: null, // the scripted backend replaces the supervised worker
      admission: {
        draining: false,
        running: 0,
        queued: 0,
        maxConcurrent: 32,
        maxQueue: 128,
        queueTimeoutMs: 10_000,
        estimatedWaitMs: expect.any(Number),
      },
      fallback: {
        chain: [
          { level: "degraded", backend: "cache" },
          { level: "degraded", backend: "cpu-model" },
          { level: "minimal", backend: "static" },
        ],
      },
      recovery: {
        enabled: false,
        cooldownMs: 30_000,
        optimizedContextTokens: 256,
        reducedMaxTokens: 4,
        pipelineWaitMs: 2000,
        systemResources: ["memory"],
        ladders: [],
      },
      health: { since: expect.any(String), history: [] },
    });
    const [b] = body.breakers;
    // The probe is let through exactly one open period after the opening.
    expect(Date.parse(b?.halfOpenAt ?? "") - Date.parse(b?.openedAt ?? "")).toEqual(60_000);
    expect(b?.msUntilHalfOpen).toBeGreaterThan(0);
    expect(b?.msUntilHalfOpen).toBeLessThanOrEqual(60_000);
  });

  it("answers with the breaker closed before any failure, and HEAD like GET", async () => {
    t = await startWithScriptedBackend();
    const [b] = (await status(t.url)).breakers;
    expect(b).toMatchObject({
      state: "closed",
      consecutiveFailures: 0,
      openedAt: null,
      halfOpenAt: null,
      msUntilHalfOpen: 0,
    });
    const head = await fetch(`${t.url}/v1/reliability`, { method: "HEAD" });
    expect([head.status, await head.text()]).toEqual([200, ""]);
    const put = await fetch(`${t.url}/v1/reliability`, { method: "PUT" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });
});

describe("GET /v1/reliability with recovery ladders on", () => {
  it("shows each ladder's steps with their outcomes and where the next run starts, as the metric counts them", async () => {
    t = await startWithScriptedBackend({
      retry: { maxRetries: 0 },
      recovery: { enabled: true },
    });
    t.backend.fallbackStep = { kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") };
    const r = await post(`${t.url}/v1/chat/completions`, chatBody());
    expect([r.status, r.headers.get(SERVICE_LEVEL_HEADER)]).toEqual([200, "degraded"]);
    const body = (await status(t.url)) as unknown as {
      recovery: { enabled: boolean; ladders: Record<string, unknown>[] };
    };
    expect(body.recovery.enabled).toEqual(true);
    const [vram] = body.recovery.ladders;
    const zero = { answered: 0, failed: 0, skipped: 0 };
    expect(vram).toEqual({
      name: "vram_exhaustion",
      failures: ["gpu_out_of_memory"],
      steps: [
        // The scripted primary has no GPU cache to clear, and "hi" has nothing to cut.
        { step: "clear_gpu_cache", outcomes: { ...zero, skipped: 1 } },
        { step: "apply_vram_optimization", outcomes: { ...zero, skipped: 1 } },
        { step: "enable_cpu_offload", outcomes: { ...zero, answered: 1 } },
        { step: "reduce_generation_params", outcomes: zero },
        { step: "fallback_to_mock", outcomes: zero },
      ],
      runs: 1,
      lastRunAtMs: expect.any(Number),
      lastRunAt: expect.any(String),
      lastAnsweredStep: "enable_cpu_offload",
      startsAt: "enable_cpu_offload",
      cooldownUntilMs: expect.any(Number),
      cooldownUntil: expect.any(String),
    });
    const steps = parseExposition(await (await fetch(`${t.url}/metrics`)).text())
      .samples.filter((s) => s.name === "faultline_recovery_ladder_steps_total" && s.value > 0)
      .map((s) => `${s.labels.ladder}/${s.labels.step}/${s.labels.outcome}=${s.value}`)
      .sort();
    expect(steps).toEqual([
      "vram_exhaustion/apply_vram_optimization/skipped=1",
      "vram_exhaustion/clear_gpu_cache/skipped=1",
      "vram_exhaustion/enable_cpu_offload/answered=1",
    ]);
  });
});

describe("POST /v1/reliability/breakers/reset", () => {
  it("closes an open breaker at once: the next request reaches the primary model, not a fallback", async () => {
    t = await openBreaker();
    const callsWhileOpen = t.backend.calls;
    expect(
      (await post(`${t.url}/v1/chat/completions`, chatBody())).headers.get(SERVICE_LEVEL_HEADER),
    ).toEqual("degraded");
    expect(t.backend.calls).toEqual(callsWhileOpen); // open: the primary is not tried
    expect((await post(`${t.url}/v1/reliability/breakers/reset`, {}, {})).status).toEqual(401);

    const reset = await post(`${t.url}/v1/reliability/breakers/reset`, {}, auth);
    expect([reset.status, await reset.json()]).toEqual([
      200,
      { object: "reliability.breakers.reset", breakers: [{ name: "worker", was: "open", state: "closed" }] },
    ]);
    const [b] = (await status(t.url)).breakers;
    expect(b).toMatchObject({
      state: "closed",
      consecutiveFailures: 0,
      halfOpenAt: null,
      msUntilHalfOpen: 0,
    });
    expect(b?.openedAt).toEqual(expect.any(String)); // when it last opened stays on record

    t.backend.fallbackStep = { kind: "ok" };
    const served = await post(`${t.url}/v1/chat/completions`, chatBody("after reset"));
    expect([served.status, served.headers.get(SERVICE_LEVEL_HEADER)]).toEqual([200, null]);
    expect(t.backend.calls).toEqual(callsWhileOpen + 1);
    expect(await transitions(t.url)).toEqual(["closed->open=1", "open->closed=1"]);
  });

  it("resets one breaker by name; an unknown name is 404 naming the known ones", async () => {
    t = await openBreaker();
    const one = await post(`${t.url}/v1/reliability/breakers/worker/reset`, {}, auth);
    expect([one.status, await one.json()]).toEqual([
      200,
      { object: "reliability.breakers.reset", breakers: [{ name: "worker", was: "open", state: "closed" }] },
    ]);
    const unknown = await post(`${t.url}/v1/reliability/breakers/gpu%2Dpool/reset`, {}, auth);
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      {
        error: {
          message: "no breaker named 'gpu-pool'; known: worker",
          type: "invalid_request_error",
          param: null,
          code: "breaker_not_found",
        },
      },
    ]);
  });
});

describe("POST /v1/reliability/recovery/trigger and /reset (002's recovery API)", () => {
  type Trigger = {
    recovered: boolean;
    step: string | null;
    level: string | null;
    ladder: Record<string, unknown>;
  };
  const trigger = async (url: string, body: unknown, headers: Record<string, string> = auth) => {
    const r = await post(`${url}/v1/reliability/recovery/trigger`, body, headers);
    return {
      status: r.status,
      body: (await r.json()) as Trigger & { error?: { message: string; param: string | null } },
    };
  };

  it("runs the named ladder for a probe now, and the reset ends its cooldown and closes the breaker", async () => {
    t = await startWithScriptedBackend({
      adminToken: TOKEN,
      retry: { maxRetries: 0 },
      recovery: { enabled: true },
    });
    t.backend.fallbackStep = { kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") };
    const callsBefore = t.backend.calls;
    const { status: code, body } = await trigger(t.url, { failure_type: "vram_exhaustion" });
    expect(code).toEqual(200);
    expect(body).toMatchObject({
      object: "reliability.recovery.trigger",
      failure_type: "vram_exhaustion",
      model: expect.any(String),
      recovered: true,
      // Nothing to clear or cut for the scripted primary; the CPU offload answers, degraded.
      step: "enable_cpu_offload",
      level: "degraded",
      ladder: {
        name: "vram_exhaustion",
        runs: 1,
        startsAt: "enable_cpu_offload",
        lastAnsweredStep: "enable_cpu_offload",
      },
    });
    expect(t.backend.calls).toEqual(callsBefore); // the skipped steps never reached the primary

    const reset = await post(`${t.url}/v1/reliability/recovery/reset`, {}, auth);
    expect([reset.status, await reset.json()]).toEqual([
      200,
      {
        object: "reliability.recovery.reset",
        cooldownsEnded: ["vram_exhaustion"],
        breakers: [{ name: "worker", was: "closed", state: "closed" }],
      },
    ]);
    const after = (await status(t.url)) as unknown as {
      recovery: { ladders: { name: string; startsAt: string }[] };
    };
    expect(after.recovery.ladders.find((l) => l.name === "vram_exhaustion")?.startsAt).toEqual(
      "clear_gpu_cache",
    );
  });

  it("answers recovered at retry_model_load, full service, when the primary serves again", async () => {
    t = await startWithScriptedBackend({
      adminToken: TOKEN,
      retry: { maxRetries: 0 },
      recovery: { enabled: true },
    });
    const callsBefore = t.backend.calls;
    const { status: code, body } = await trigger(t.url, { failure_type: "model_loading_failure" });
    expect([code, body.recovered, body.step, body.level]).toEqual([200, true, "retry_model_load", "full"]);
    expect(t.backend.calls).toEqual(callsBefore + 1);
  });

  it("answers 503, recovered false, with the last failure when no step answered", async () => {
    t = await startWithScriptedBackend({
      adminToken: TOKEN,
      retry: { maxRetries: 0 },
      recovery: { enabled: true },
      fallback: { cache: false, cpuModel: false, static: false },
    });
    t.backend.fallbackStep = { kind: "fail", error: () => new GpuOutOfMemoryError("CUDA out of memory") };
    const { status: code, body } = await trigger(t.url, { failure_type: "model_loading_failure" });
    expect([code, body.recovered, body.step, body.level]).toEqual([503, false, null, null]);
    expect(body.ladder).toMatchObject({ name: "model_loading_failure", runs: 1, lastAnsweredStep: null });
  });

  it("refuses without the token, names the field of bad input, and says how to turn the ladders on", async () => {
    t = await startWithScriptedBackend({ adminToken: TOKEN });
    expect((await trigger(t.url, { failure_type: "pipeline_error" }, {})).status).toEqual(401);
    expect((await post(`${t.url}/v1/reliability/recovery/reset`, {}, {})).status).toEqual(401);
    const missing = await trigger(t.url, {});
    expect([missing.status, missing.body.error?.param]).toEqual([400, "failure_type"]);
    expect(missing.body.error?.message).toEqual(
      "failure_type must be one of vram_exhaustion, model_loading_failure, pipeline_error, network_error, system_resource_error; got nothing",
    );
    const model = await trigger(t.url, { failure_type: "pipeline_error", model: "nope" });
    expect([model.status, model.body.error?.param]).toEqual([400, "model"]);
    const extra = await trigger(t.url, { failure_type: "pipeline_error", force: true });
    expect([extra.status, extra.body.error?.message]).toEqual([
      400,
      "unknown field 'force'; send failure_type and, optionally, model",
    ]);
    const off = await trigger(t.url, { failure_type: "pipeline_error" });
    expect([off.status, off.body.error?.message]).toEqual([
      409,
      "the recovery ladders are off; start the service with recovery.enabled: true",
    ]);
  });
});
