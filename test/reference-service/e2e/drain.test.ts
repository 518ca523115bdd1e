import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SERVICE_LEVEL_HEADER, STATE_FILES } from "../../../reference-service/contract.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { alive, slowWorkerConfig, startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

const body = (i: number) =>
  JSON.stringify({
    model: "sim-utility",
    messages: [{ role: "user", content: `drain ${i}` }],
    max_tokens: 30,
  });

async function accepted(url: string): Promise<number> {
  const { samples } = parseExposition(await (await fetch(`${url}/metrics`)).text());
  return (
    (sampleValue(samples, "vllm:num_requests_running") ?? 0) +
    (sampleValue(samples, "vllm:num_requests_waiting") ?? 0)
  );
}

describe("graceful drain", () => {
  it("SIGTERM with 50 requests in flight: all 50 complete, new work is refused with 503, exit 0", async () => {
    // 250 ms per token and room for all 50 at once: every request lasts 2-9.75 s, the drain up
    // to 10 s. At 40 ms per token (0.3-1.6 s) the first answers were done before the fiftieth
    // request arrived at load average 12, and 50 were never in flight together.
    s = await startService([], slowWorkerConfig(250));
    const svc = s;
    await waitReady(svc.url, 20_000);
    const workerPid = await svc.workerPid();
    const inflight = Array.from({ length: 50 }, (_, i) =>
      fetch(`${svc.url}/v1/chat/completions`, { method: "POST", body: body(i) }).then(async (r) => ({
        status: r.status,
        level: r.headers.get(SERVICE_LEVEL_HEADER) ?? "full",
        finish: ((await r.json()) as { choices?: { finish_reason: string }[] }).choices?.[0]?.finish_reason,
      })),
    );
    // A deadline, not a count of polls: on a loaded CI machine 500 polls of 10 ms were not
    // enough for 50 requests to arrive (a fresh-clone run saw 0 accepted at that point).
    const arriveBy = Date.now() + 20_000;
    while (Date.now() < arriveBy && (await accepted(svc.url)) < 50)
      await new Promise((r) => setTimeout(r, 10));
    expect(await accepted(svc.url)).toEqual(50);
    svc.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));

    const ready = await fetch(`${svc.url}/health/ready`);
    expect([ready.status, ((await ready.json()) as { status: string }).status]).toEqual([503, "draining"]);
    expect((await fetch(`${svc.url}/health/live`)).status).toEqual(200);
    const refused = await fetch(`${svc.url}/v1/chat/completions`, { method: "POST", body: body(99) });
    expect([
      refused.status,
      refused.headers.get("connection"),
      refused.headers.get("retry-after") !== null,
    ]).toEqual([503, "close", true]);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toEqual("draining");

    const results = await Promise.all(inflight);
    expect(
      results.filter(
        (r) => r.status !== 200 || r.level !== "full" || !["stop", "length"].includes(r.finish ?? ""),
      ),
    ).toEqual([]);
    expect(results.length).toEqual(50);
    expect(await svc.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(svc.stateDir, STATE_FILES.apiPid))).toEqual(false);
    expect(alive(workerPid)).toEqual(false);
  }, 60_000);

  it("a second signal forces the exit (code 1) and takes the worker down", async () => {
    s = await startService([], slowWorkerConfig(1000)); // a request lasts 8-39 s
    const svc = s;
    await waitReady(svc.url, 20_000);
    const workerPid = await svc.workerPid();
    // A long request keeps the drain waiting, so only the second signal can end it quickly.
    const long = fetch(`${svc.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "sim-utility",
        messages: [{ role: "user", content: "long" }],
        max_tokens: 2000,
      }),
    }).catch(() => "cut");
    for (let i = 0; i < 500 && (await accepted(svc.url)) < 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    svc.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    expect(svc.child.exitCode).toEqual(null);
    svc.child.kill("SIGTERM");
    expect(await svc.exit).toEqual({ code: 1, signal: null });
    expect(await long).toEqual("cut");
    for (let i = 0; i < 100 && alive(workerPid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(workerPid)).toEqual(false);
  }, 60_000);

  it("bad configuration is refused at start with exit 2 and the field named", async () => {
    await expect(startService(["--breaker.failure-threshold", "0"])).rejects.toThrow(
      /service exited with 2: faultline reference service: invalid configuration\nbreaker\.failureThreshold: Too small: expected number to be >0/,
    );
  });
});
