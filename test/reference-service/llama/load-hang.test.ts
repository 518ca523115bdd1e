import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelLoadHang } from "../../../harness/faults/model-load-hang.js";
import { FALLBACK_HEADER, SERVICE_LEVEL_HEADER } from "../../../reference-service/contract.js";
import { readHeartbeat } from "../../../reference-service/ipc/protocol.js";
import { faultContext } from "../../harness/faults/helpers.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { alive, startService, waitReady, type ServiceProcess } from "../e2e/service-process.js";

/** The load watchdog's bound, from the service's own config (a tiny model loads in ~25 ms). */
const LOAD_TIMEOUT_MS = 2000;

const config = {
  breaker: { failureThreshold: 2, halfOpenAfterMs: 500 },
  worker: {
    engine: "llama",
    preload: "tiny",
    llama: { threads: 1, sequences: 1, loadTimeoutMs: LOAD_TIMEOUT_MS },
    models: [
      {
        name: "tiny",
        device: "cpu",
        task: "generate",
        sizeBytes: 0,
        loadMs: 0,
        prefillMs: 0,
        prefillMsPerToken: 0,
        msPerToken: 0,
        contextTokens: 256,
        generate: { size: "tiny", seed: 4 },
      },
    ],
  },
};

let s: ServiceProcess;
beforeAll(async () => {
  s = await startService([], config);
  await waitReady(s.url, 90_000); // node-llama-cpp tests its binary in a child process first
}, 120_000);
afterAll(() => s?.cleanup());

async function ask(): Promise<{ status: number; level: string; fallback: string | null }> {
  const r = await fetch(`${s.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", prompt: "hello", max_tokens: 4 }),
  });
  await r.text();
  return {
    status: r.status,
    level: r.headers.get(SERVICE_LEVEL_HEADER) ?? "full",
    fallback: r.headers.get(FALLBACK_HEADER),
  };
}

async function until<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function restarts(cause: string): Promise<number> {
  const { samples } = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
  return sampleValue(samples, "faultline_worker_restarts_total", { cause }) ?? 0;
}

const WATCHDOG_LINE = `load watchdog: tiny did not load within ${LOAD_TIMEOUT_MS} ms`;

describe("model-load-hang on the real engine", () => {
  it("the load watchdog kills the hung worker, the supervisor restarts it, fallbacks answer, full service returns", async () => {
    expect(await ask()).toMatchObject({ status: 200, level: "full" });
    const ctx = faultContext({ stateDir: s.stateDir }, "worker", "hang-1");
    const state = await modelLoadHang.inject(modelLoadHang.params.parse({}), ctx);
    try {
      // The resident model keeps serving from memory; a crash makes the next worker load it.
      const first = await s.workerPid();
      process.kill(first, "SIGKILL");
      // The fresh worker starts loading (its heartbeat says so) and never finishes.
      const hung = await until(60_000, async () => {
        const hb = await readHeartbeat(s.stateDir);
        return hb.ok && hb.heartbeat.pid !== first && hb.heartbeat.models[0]?.state === "loading"
          ? { pid: hb.heartbeat.pid, at: performance.now() }
          : undefined;
      });
      const during = await ask();
      expect(during.status).toBe(200);
      expect(during.level).not.toBe("full");
      expect(during.fallback).not.toBeNull();
      // The watchdog, not the heartbeat check: the worker names the configured bound and dies.
      await until(60_000, () => Promise.resolve(alive(hung.pid) ? undefined : true));
      const lived = performance.now() - hung.at;
      expect(s.stderr()).toContain(WATCHDOG_LINE);
      expect(lived).toBeGreaterThan(LOAD_TIMEOUT_MS - 100);
      // Its heartbeat kept coming while it waited (the load blocks a thread, not the event
      // loop), so the supervisor never judged it hung; it restarts it as a crash.
      expect(await restarts("hung")).toBe(0);
      const next = await until(30_000, async () => {
        const pid = await s.workerPid();
        return pid !== hung.pid && alive(pid) ? pid : undefined;
      });
      expect(next).not.toBe(first);
      expect(await restarts("crash")).toBeGreaterThanOrEqual(2); // the kill, then the watchdog
    } finally {
      await modelLoadHang.revert(state, { clock: ctx.clock });
    }
    const full = await until(30_000, async () => {
      const r = await ask();
      return r.level === "full" ? r : undefined;
    });
    expect(full.status).toBe(200);
    expect(await restarts("hung")).toBe(0);
  }, 150_000);
});
