import { afterEach, describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe("a hung worker (SIGSTOP)", () => {
  it("readiness drops on the stale heartbeat; the supervisor kills and replaces the worker", async () => {
    s = await startService();
    await waitReady(s.url, 20_000);
    const oldPid = await s.workerPid();
    process.kill(oldPid, "SIGSTOP");
    let notReady: { status: string; reason: string } | undefined;
    for (let i = 0; i < 200 && !notReady; i++) {
      const r = await fetch(`${s.url}/health/ready`);
      const b = (await r.json()) as { status: string; reason: string };
      if (r.status === 503) notReady = b;
      else await new Promise((res) => setTimeout(res, 20));
    }
    expect(notReady?.status).toEqual("stalled");
    expect(notReady?.reason).toMatch(/^worker heartbeat is \d+ ms old \(limit 1000\)$/);
    await waitReady(s.url, 20_000);
    expect(await s.workerPid()).not.toEqual(oldPid);
    const { samples } = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    expect(sampleValue(samples, "faultline_worker_restarts_total", { cause: "hung" })).toEqual(1);
    const h = (await (await fetch(`${s.url}/health`)).json()) as {
      worker: { restarts: number; lastRestartCause: string };
    };
    expect(h.worker).toMatchObject({ restarts: 1, lastRestartCause: "hung" });
  }, 60_000);
});
