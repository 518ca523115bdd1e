import { askCompletion, generatedModel, until, useLlamaService, type Answer } from "./engine-service.js";
import { describe, expect, it } from "vitest";
import { modelLoadHang } from "../../../harness/faults/kinds/model-load-hang.js";
import { readHeartbeat } from "../../../reference-service/ipc/protocol.js";
import { faultContext } from "../../harness/faults/helpers.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { alive } from "../e2e/service-process.js";

/** The load watchdog's bound, from the service's own config (a tiny model loads in ~25 ms). */
const LOAD_TIMEOUT_MS = 2000;

const config = {
  breaker: { failureThreshold: 2, halfOpenAfterMs: 500 },
  worker: {
    engine: "llama",
    preload: "tiny",
    llama: { threads: 1, sequences: 1, loadTimeoutMs: LOAD_TIMEOUT_MS },
    models: [generatedModel("tiny", "tiny", 4)],
  },
};

const svc = useLlamaService(config);
/** This file polls every 50 ms. */
const untilEvery = <T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> => until(ms, probe, 50);

const ask = (): Promise<Answer> => askCompletion(svc().url, "tiny");

async function restarts(cause: string): Promise<number> {
  const { samples } = parseExposition(await (await fetch(`${svc().url}/metrics`)).text());
  return sampleValue(samples, "faultline_worker_restarts_total", { cause }) ?? 0;
}

const WATCHDOG_LINE = `load watchdog: tiny did not load within ${LOAD_TIMEOUT_MS} ms`;

describe("model-load-hang on the real engine", () => {
  it("the load watchdog kills the hung worker, the supervisor restarts it, fallbacks answer, full service returns", async () => {
    expect(await ask()).toMatchObject({ status: 200, level: "full" });
    const ctx = faultContext({ stateDir: svc().stateDir }, "worker", "hang-1");
    const state = await modelLoadHang.inject(modelLoadHang.params.parse({}), ctx);
    try {
      // The resident model keeps serving from memory; a crash makes the next worker load it.
      const first = await svc().workerPid();
      process.kill(first, "SIGKILL");
      // The fresh worker starts loading (its heartbeat says so) and never finishes.
      const hung = await untilEvery(60_000, async () => {
        const hb = await readHeartbeat(svc().stateDir);
        return hb.ok && hb.heartbeat.pid !== first && hb.heartbeat.models[0]?.state === "loading"
          ? { pid: hb.heartbeat.pid, at: performance.now() }
          : undefined;
      });
      const during = await ask();
      expect(during.status).toBe(200);
      expect(during.level).not.toBe("full");
      expect(during.fallback).not.toBeNull();
      // The watchdog, not the heartbeat check: the worker names the configured bound and dies.
      await untilEvery(60_000, () => Promise.resolve(alive(hung.pid) ? undefined : true));
      const lived = performance.now() - hung.at;
      expect(svc().stderr()).toContain(WATCHDOG_LINE);
      expect(lived).toBeGreaterThan(LOAD_TIMEOUT_MS - 100);
      // Its heartbeat kept coming while it waited (the load blocks a thread, not the event
      // loop), so the supervisor never judged it hung; it restarts it as a crash.
      expect(await restarts("hung")).toBe(0);
      const next = await untilEvery(30_000, async () => {
        const pid = await svc().workerPid();
        return pid !== hung.pid && alive(pid) ? pid : undefined;
      });
      expect(next).not.toBe(first);
      expect(await restarts("crash")).toBeGreaterThanOrEqual(2); // the kill, then the watchdog
    } finally {
      await modelLoadHang.revert(state, { clock: ctx.clock });
    }
    const full = await untilEvery(30_000, async () => {
      const r = await ask();
      return r.level === "full" ? r : undefined;
    });
    expect(full.status).toBe(200);
    expect(await restarts("hung")).toBe(0);
  }, 150_000);
});
