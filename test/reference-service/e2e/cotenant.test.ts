import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FALLBACK_HEADER, STATE_FILES } from "../../../reference-service/contract.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

async function ask(url: string, i: number): Promise<string> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({
      model: "sim-utility",
      messages: [{ role: "user", content: `cotenant ${i}` }],
      max_tokens: 3,
    }),
  });
  await r.arrayBuffer();
  return r.status === 200 ? (r.headers.get(FALLBACK_HEADER) ?? "full") : `${r.status}`;
}

describe("a co-tenant takes GPU memory", () => {
  it("requests get fallback answers, and full service returns on its own once it is released", async () => {
    s = await startService();
    await waitReady(s.url, 20_000);
    const dir = join(s.stateDir, STATE_FILES.gpuCotenants);
    await mkdir(dir, { recursive: true });
    // 7 GiB of the 8 GiB device: with the 2 GiB model resident, nothing fits.
    await writeFile(
      join(dir, "tenant.json"),
      JSON.stringify({ bytes: 7 * 1024 ** 3, owner: "test", createdAt: new Date().toISOString() }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const during: string[] = [];
    for (let i = 0; i < 8; i++) during.push(await ask(s.url, i));
    expect(during).toEqual(Array.from({ length: 8 }, () => "cpu-model"));
    const { samples } = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    expect(
      sampleValue(samples, "faultline_fallback_total", { to: "cpu-model", reason: "gpu_out_of_memory" }),
    ).toEqual(5);
    expect(
      sampleValue(samples, "faultline_fallback_total", { to: "cpu-model", reason: "circuit_open" }),
    ).toEqual(3);
    expect(sampleValue(samples, "faultline_breaker_state", { backend: "worker" })).toEqual(1);

    await rm(join(dir, "tenant.json"));
    let back = "";
    // The breaker's open period is 60 s, but freed co-tenant memory lets the next call probe at once.
    for (let i = 0; i < 50 && back !== "full"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await ask(s.url, 100 + i);
    }
    expect(back).toEqual("full");
    expect((await fetch(`${s.url}/health/ready`)).status).toEqual(200);
  }, 60_000);
});
