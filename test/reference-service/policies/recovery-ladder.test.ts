import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { InvalidInputError } from "../../../common/errors.js";
import { DEFAULT_CONFIG, parseConfigArgs, resolveConfig } from "../../../reference-service/config.js";
import {
  DEFAULT_LADDERS,
  LadderExhaustedError,
  RecoveryLadders,
  type LadderStep,
  type StepResult,
} from "../../../reference-service/policies/recovery-ladder.js";

const answered = (value: string): StepResult<string> => ({ outcome: "answered", value });

/** A ladder set whose steps do what `plan` says, logging every step run and every count. */
function setup(plan: Partial<Record<LadderStep, "answer" | "fail" | "skip">>, cooldownMs = 30_000) {
  const clock = new ManualClock();
  const counted: string[] = [];
  const ladders = new RecoveryLadders({ cooldownMs, ladders: DEFAULT_LADDERS }, clock, {
    step: (ladder, step, outcome) => counted.push(`${ladder}/${step}=${outcome}`),
  });
  const ran: LadderStep[] = [];
  const runStep = (step: LadderStep): Promise<StepResult<string>> => {
    ran.push(step);
    const what = plan[step] ?? "fail";
    if (what === "fail") return Promise.reject(new Error(`${step} failed`));
    if (what === "skip") return Promise.resolve({ outcome: "skipped", why: "nothing to do" });
    return Promise.resolve(answered(step));
  };
  return { clock, counted, ladders, ran, runStep };
}

describe("RecoveryLadders", () => {
  it("runs the VRAM ladder in the write-up's order and stops at the first step that answered", async () => {
    const { counted, ladders, ran, runStep } = setup({
      apply_vram_optimization: "skip",
      enable_cpu_offload: "answer",
    });
    const run = await ladders.run("vram_exhaustion", runStep, new Error("oom"));
    expect(run).toEqual({
      ladder: "vram_exhaustion",
      step: "enable_cpu_offload",
      value: "enable_cpu_offload",
    });
    expect(ran).toEqual(["clear_gpu_cache", "apply_vram_optimization", "enable_cpu_offload"]);
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=failed",
      "vram_exhaustion/apply_vram_optimization=skipped",
      "vram_exhaustion/enable_cpu_offload=answered",
    ]);
  });

  it("maps each failure code the service sees to its ladder, and nothing else", () => {
    const { ladders } = setup({});
    expect(
      [
        "gpu_out_of_memory",
        "model_load_failed",
        "worker_unavailable",
        "ipc_corrupt_frame",
        "model_download_failed",
        "circuit_open",
        "timeout",
      ].map((c) => ladders.ladderFor(c)),
    ).toEqual([
      "vram_exhaustion",
      "model_loading_failure",
      "pipeline_error",
      "pipeline_error",
      "network_error",
      null,
      null,
    ]);
  });

  it("runs the network ladder in 002's order: retry the download, then the fallback", async () => {
    const { counted, ladders, ran, runStep } = setup({ fallback_to_mock: "answer" });
    expect(ladders.steps("network_error")).toEqual(["retry_model_download", "fallback_to_mock"]);
    const run = await ladders.run("network_error", runStep, new Error("download failed"));
    expect(run.step).toEqual("fallback_to_mock");
    expect(ran).toEqual(["retry_model_download", "fallback_to_mock"]);
    expect(counted).toEqual([
      "network_error/retry_model_download=failed",
      "network_error/fallback_to_mock=answered",
    ]);
  });

  it("throws LadderExhaustedError with the last failure when no step answered, and counts every step", async () => {
    const { counted, ladders, runStep } = setup({});
    const cause = new Error("load failed");
    const err = await ladders.run("model_loading_failure", runStep, cause).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LadderExhaustedError);
    expect((err as LadderExhaustedError).lastError).toEqual(new Error("fallback_to_mock failed"));
    expect(counted).toEqual([
      "model_loading_failure/clear_gpu_cache=failed",
      "model_loading_failure/retry_model_load=failed",
      "model_loading_failure/apply_vram_optimization=failed",
      "model_loading_failure/fallback_to_mock=failed",
    ]);
    const status = ladders.status().find((l) => l.name === "model_loading_failure");
    expect(status?.steps.map((s) => s.outcomes.failed)).toEqual([1, 1, 1, 1]);
    expect(status?.lastAnsweredStep).toEqual(null);
  });

  it("stops at once on a fatal failure (bytes already sent): no later step runs", async () => {
    const { counted, ladders, ran, runStep } = setup({ restart_pipeline: "answer" });
    const fatal = new Error("committed");
    const err = await ladders
      .run(
        "pipeline_error",
        runStep,
        new Error("down"),
        (e) => e === fatal || (e as Error).message.startsWith("clear"),
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toEqual("clear_gpu_cache failed");
    expect(ran).toEqual(["clear_gpu_cache"]);
    expect(counted).toEqual(["pipeline_error/clear_gpu_cache=failed"]);
  });

  it("starts at the step that answered for exactly cooldownMs on the injected clock, then from the top", async () => {
    const { clock, counted, ladders, ran, runStep } = setup({ enable_cpu_offload: "answer" }, 30_000);
    await ladders.run("vram_exhaustion", runStep, null);
    expect(ladders.status()[0]).toMatchObject({
      startsAt: "enable_cpu_offload",
      cooldownUntilMs: clock.now() + 30_000,
      lastAnsweredStep: "enable_cpu_offload",
      runs: 1,
    });
    ran.length = 0;
    counted.length = 0;
    await clock.advanceAsync(29_999);
    await ladders.run("vram_exhaustion", runStep, null);
    expect(ran).toEqual(["enable_cpu_offload"]);
    expect(counted).toEqual([
      "vram_exhaustion/clear_gpu_cache=skipped",
      "vram_exhaustion/apply_vram_optimization=skipped",
      "vram_exhaustion/enable_cpu_offload=answered",
    ]);
    // The second run answered at the same step: the cooldown restarts from its time.
    await clock.advanceAsync(29_999);
    expect(ladders.status()[0]?.startsAt).toEqual("enable_cpu_offload");
    await clock.advanceAsync(1);
    expect(ladders.status()[0]).toMatchObject({ startsAt: "clear_gpu_cache", cooldownUntilMs: null });
    ran.length = 0;
    await ladders.run("vram_exhaustion", runStep, null);
    expect(ran).toEqual(["clear_gpu_cache", "apply_vram_optimization", "enable_cpu_offload"]);
  });

  it("keeps no cooldown when the first step answered, and each ladder its own", async () => {
    const { ladders, ran, runStep } = setup({ clear_gpu_cache: "answer", fallback_to_mock: "answer" });
    await ladders.run("vram_exhaustion", runStep, null);
    expect(ladders.status().map((l) => [l.name, l.startsAt, l.cooldownUntilMs])).toEqual([
      ["vram_exhaustion", "clear_gpu_cache", null],
      ["model_loading_failure", "clear_gpu_cache", null],
      ["pipeline_error", "clear_gpu_cache", null],
      ["network_error", "retry_model_download", null],
      ["system_resource_error", "system_health_check", null],
    ]);
    expect(ran).toEqual(["clear_gpu_cache"]);
  });
});

describe("recovery config", () => {
  const issuesOf = (partial: unknown) => {
    try {
      resolveConfig(partial);
    } catch (e) {
      if (e instanceof InvalidInputError) return e.issues.map((i) => `${i.path}: ${i.message}`);
      throw e;
    }
    throw new Error("expected InvalidInputError");
  };

  it("defaults to the write-up's order, off", () => {
    expect(DEFAULT_CONFIG.recovery.enabled).toEqual(false);
    expect(DEFAULT_CONFIG.recovery.ladders).toEqual({
      vram_exhaustion: [
        "clear_gpu_cache",
        "apply_vram_optimization",
        "enable_cpu_offload",
        "reduce_generation_params",
        "fallback_to_mock",
      ],
      model_loading_failure: [
        "clear_gpu_cache",
        "retry_model_load",
        "apply_vram_optimization",
        "fallback_to_mock",
      ],
      pipeline_error: ["clear_gpu_cache", "restart_pipeline", "apply_vram_optimization", "fallback_to_mock"],
      network_error: ["retry_model_download", "fallback_to_mock"],
      system_resource_error: ["system_health_check", "clear_gpu_cache", "fallback_to_mock"],
    });
    expect(DEFAULT_CONFIG.recovery.cooldownMs).toEqual(30_000);
  });

  it("takes a ladder as a comma-separated flag", () => {
    const { overrides } = parseConfigArgs([
      "--recovery.ladders.vram_exhaustion",
      "enable_cpu_offload, fallback_to_mock",
    ]);
    expect(resolveConfig(overrides).recovery.ladders.vram_exhaustion).toEqual([
      "enable_cpu_offload",
      "fallback_to_mock",
    ]);
  });

  it("refuses unknown steps, duplicates, an empty ladder and steps after the fallback, naming the field", () => {
    const issues = issuesOf({
      recovery: {
        ladders: {
          vram_exhaustion: ["clear_gpu_cache", "clear_gpu_cache"],
          model_loading_failure: ["fallback_to_mock", "retry_model_load"],
          pipeline_error: [],
        },
      },
    });
    expect(issues).toEqual([
      "recovery.ladders.vram_exhaustion.1: clear_gpu_cache is listed twice; list each step once",
      "recovery.ladders.model_loading_failure.0: fallback_to_mock must be the last step: the steps after it would never run",
      "recovery.ladders.pipeline_error: give at least one step (e.g. [fallback_to_mock])",
    ]);
    const unknown = issuesOf({ recovery: { ladders: { pipeline_error: ["reboot_host"] } } });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(/^recovery\.ladders\.pipeline_error\.0: .*clear_gpu_cache/);
    // 002's hardware-optimization ladder is not built: nothing here fails for that reason.
    expect(
      issuesOf({ recovery: { ladders: { hardware_optimization_failure: ["fallback_to_mock"] } } }),
    ).toEqual(["recovery.ladders.hardware_optimization_failure: unknown setting"]);
  });
});
