import { afterEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN_ENV } from "../../../reference-service/contract.js";
import { startService, waitReady, type ServiceProcess } from "../e2e/service-process.js";
import { startWithScriptedBackend, type TestService } from "./harness.js";

/** POST /v1/models/{id}/load and /verify: write-up 004's load and verification operations. */

const TOKEN = "0123456789abcdef0123456789abcdef";
const AUTH = { authorization: `Bearer ${TOKEN}` };

let t: TestService | undefined;
let proc: ServiceProcess | undefined;
afterEach(async () => {
  await t?.stop();
  await proc?.cleanup();
  t = undefined;
  proc = undefined;
});

async function call(url: string, headers: Record<string, string> = {}, body?: string) {
  const r = await fetch(url, { method: "POST", headers, ...(body !== undefined ? { body } : {}) });
  return { status: r.status, body: await r.json() };
}

const errorCode = (b: unknown): unknown => (b as { error?: { code?: unknown } }).error?.code;

describe("model load/verify endpoints", () => {
  it("need the admin token before anything else (401 even for an unknown model); past it, no worker is 501", async () => {
    t = await startWithScriptedBackend({ adminToken: TOKEN });
    for (const path of [
      "/v1/models/sim-utility/load",
      "/v1/models/sim-utility/verify",
      "/v1/models/nope/verify",
    ])
      expect([path, (await call(`${t.url}${path}`)).status]).toEqual([path, 401]);
    for (const op of ["load", "verify"]) {
      const r = await call(`${t.url}/v1/models/sim-utility/${op}`, AUTH);
      expect([op, r.status, errorCode(r.body)]).toEqual([op, 501, "not_supported"]);
    }
  });

  it("through a real worker with generated models: verify leaves the model as it was, load swaps the GPU model, bad input is 4xx, /metrics counts both", async () => {
    proc = await startService([], { worker: { generatedModels: 3 } }, { env: { [ADMIN_TOKEN_ENV]: TOKEN } });
    await waitReady(proc.url, 20_000);
    const models = (await (await fetch(`${proc.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([
      "sim-utility",
      "sim-reasoning",
      "sim-embed",
      "sim-gen-000",
      "sim-gen-001",
      "sim-gen-002",
    ]);

    const base = `${proc.url}/v1/models`;
    expect(await call(`${base}/sim-gen-001/verify`, AUTH)).toEqual({
      status: 200,
      body: { name: "sim-gen-001", verified: true, state: "unloaded" },
    });
    expect(await call(`${base}/sim-gen-001/load`, AUTH, '{"keep_alive_ms": 60000}')).toEqual({
      status: 200,
      body: { name: "sim-gen-001", state: "ready" },
    });
    // gpuModelsMax 1 (the default): loading sim-gen-001 unloaded the preloaded sim-utility.
    const utility = (await (await fetch(`${base}/sim-utility`)).json()) as { status: string };
    expect(utility.status).toBe("unloaded");

    const bad: [string, string | undefined, number, string][] = [
      ["/nope/verify", undefined, 404, "model_not_found"],
      ["/nope/load", undefined, 404, "model_not_found"],
      ["/%zz/load", undefined, 400, "invalid_request"],
      ["/sim-gen-000/load", "{", 400, "invalid_request"],
      ["/sim-gen-000/load", '{"keep_alive_ms": "long"}', 400, "invalid_request"],
      ["/sim-gen-000/load", '{"keepAlive": 1}', 400, "invalid_request"],
      ["/sim-gen-000/verify", '{"deep": true}', 400, "invalid_request"],
    ];
    for (const [path, body, status, code] of bad) {
      const r = await call(`${base}${path}`, AUTH, body);
      expect([path, body, r.status, errorCode(r.body)]).toEqual([path, body, status, code]);
    }

    const text = await (await fetch(`${proc.url}/metrics`)).text();
    expect(text).toContain(
      'faultline_requests_total{route="/v1/models/{id}/verify",outcome="ok",status="200"} 1',
    );
    expect(text).toContain(
      'faultline_requests_total{route="/v1/models/{id}/load",outcome="ok",status="200"} 1',
    );
    // The verification's time reaches /metrics through the worker's heartbeat: wait for a beat.
    for (;;) {
      const m = /faultline_model_verify_seconds\{model="sim-gen-001"\} ([0-9.e-]+)/.exec(
        await (await fetch(`${proc.url}/metrics`)).text(),
      );
      if (m?.[1] !== undefined) {
        // Its verifyMs is 20; Node fires a timer up to 1 ms early against performance.now().
        expect(Number(m[1])).toBeGreaterThanOrEqual(0.019);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
