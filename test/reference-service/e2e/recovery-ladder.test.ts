import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FALLBACK_HEADER, SERVICE_LEVEL_HEADER, STATE_FILES } from "../../../reference-service/contract.js";
import { parseExposition } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

async function ask(url: string, content: string): Promise<string> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "sim-utility", messages: [{ role: "user", content }], max_tokens: 3 }),
  });
  await r.arrayBuffer();
  return `${r.status} ${r.headers.get(SERVICE_LEVEL_HEADER)} ${r.headers.get(FALLBACK_HEADER)}`;
}

const ladderSteps = async (url: string): Promise<string[]> =>
  parseExposition(await (await fetch(`${url}/metrics`)).text())
    .samples.filter((x) => x.name === "faultline_recovery_ladder_steps_total" && x.value > 0)
    .map((x) => `${x.labels.ladder}/${x.labels.step}/${x.labels.outcome}=${x.value}`)
    .sort();

describe("the real service under a GPU OOM with recovery ladders on", () => {
  it("runs the VRAM ladder in order against the worker and answers from the CPU offload, marked degraded", async () => {
    // Retries off and a breaker that does not open within the test: each request climbs the
    // ladder from the top (cooldown 0), so every step's count is the number of requests.
    s = await startService([], {
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 100 },
      recovery: { enabled: true, cooldownMs: 0 },
    });
    await waitReady(s.url, 20_000);
    // A full answer carries no level headers.
    expect(await ask(s.url, "warm up")).toEqual("200 null null");
    const dir = join(s.stateDir, STATE_FILES.gpuCotenants);
    await mkdir(dir, { recursive: true });
    // 7 GiB of the 8 GiB device: with the 2 GiB model resident, nothing fits.
    await writeFile(join(dir, "tenant.json"), JSON.stringify({ bytes: 7 * 1024 ** 3, owner: "test" }));
    await new Promise((r) => setTimeout(r, 500));
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push(await ask(s.url, `oom ${i}`));
    expect(answers).toEqual(Array.from({ length: 3 }, () => "200 degraded cpu-model:enable_cpu_offload"));
    expect(await ladderSteps(s.url)).toEqual([
      // Nothing idle to unload (the model in use is kept), so the try after it fails as well;
      // "oom i" is within the 256-token context, so there is nothing to optimize.
      "vram_exhaustion/apply_vram_optimization/skipped=3",
      "vram_exhaustion/clear_gpu_cache/failed=3",
      "vram_exhaustion/enable_cpu_offload/answered=3",
    ]);
    const status = (await (await fetch(`${s.url}/v1/reliability`)).json()) as {
      recovery: { ladders: { name: string; runs: number; lastAnsweredStep: string }[] };
    };
    expect(status.recovery.ladders[0]).toMatchObject({
      name: "vram_exhaustion",
      runs: 3,
      lastAnsweredStep: "enable_cpu_offload",
    });
  }, 60_000);
});
