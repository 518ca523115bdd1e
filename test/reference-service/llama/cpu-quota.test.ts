import { generatedModel, useLlamaService } from "./engine-service.js";
import { describe, expect, it } from "vitest";
import { cgroupOf } from "../../../harness/faults/cgroup.js";
import { cpuQuota } from "../../../harness/faults/kinds/cpu-quota.js";
import { SERVICE_LEVEL_HEADER } from "../../../reference-service/contract.js";
import { faultContext } from "../../harness/faults/helpers.js";

const config = {
  worker: {
    engine: "llama",
    preload: "tiny",
    llama: { threads: 1, sequences: 1 },
    models: [generatedModel("tiny", "tiny", 5, 512)],
  },
};

const svc = useLlamaService(config);

/** Real tokens per second of one full-service answer: usage from llama.cpp over the wall time. */
async function tokensPerSecond(): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${svc().url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", prompt: "count the sheep", max_tokens: 256 }),
  });
  const body = (await r.json()) as { usage: { completion_tokens: number } };
  const ms = performance.now() - t0;
  expect(r.status).toBe(200);
  expect(r.headers.get(SERVICE_LEVEL_HEADER)).toBeNull(); // full service: the real engine answered
  expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(64);
  return body.usage.completion_tokens / (ms / 1000);
}

async function median(n: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < n; i++) runs.push(await tokensPerSecond());
  return runs.sort((a, b) => a - b)[Math.floor(n / 2)] ?? 0;
}

describe("cpu-quota on the real engine's worker", () => {
  it("10% of one CPU at least halves real token generation; revert gives it back", async () => {
    const pid = await svc().workerPid();
    const home = await cgroupOf(pid, "cpu");
    await tokensPerSecond(); // warm-up
    const free = await median(3);
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "cpu-llama");
    const state = await cpuQuota.inject(cpuQuota.params.parse({ percent: 10 }), ctx);
    let limited: number;
    try {
      limited = await median(3);
    } finally {
      await cpuQuota.revert(state, { clock: ctx.clock });
    }
    expect((await cgroupOf(pid, "cpu")).dir).toBe(home.dir);
    const after = await median(3);
    console.log(
      `cpu-quota 10%: ${free.toFixed(0)} tok/s free, ${limited.toFixed(0)} limited, ${after.toFixed(0)} after revert`,
    );
    expect(limited).toBeLessThanOrEqual(free / 2);
    expect(after).toBeGreaterThan(2 * limited);
  }, 120_000);
});
