import { askCompletion, generatedModel, until, useLlamaService, type Answer } from "./engine-service.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryCgroupOf } from "../../../harness/faults/cgroup.js";
import { hostOom } from "../../../harness/faults/kinds/host-oom.js";
import { faultContext } from "../../harness/faults/helpers.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { alive } from "../e2e/service-process.js";

const MiB = 1024 * 1024;
const model = (name: string, size: "tiny" | "small") => generatedModel(name, size, 6);

/**
 * Two real models: tiny resident, small (~46 MB) loaded on demand. mmap off: llama.cpp reads
 * the weights into its own memory, so the load is charged to the worker's memory cgroup (mapped
 * pages of a file already in the page cache would be charged to whoever read it first).
 */
const config = {
  breaker: { failureThreshold: 2, halfOpenAfterMs: 500 },
  worker: {
    engine: "llama",
    preload: "tiny",
    llama: { threads: 1, sequences: 1, mmap: false },
    models: [model("tiny", "tiny"), model("small", "small")],
  },
};

const svc = useLlamaService(config);

const ask = (name: string): Promise<Answer> => askCompletion(svc().url, name);

describe("host OOM while the real engine loads a model under a memory cgroup", () => {
  it("the kernel kills the loading worker, fallbacks answer, the restarted worker loads it: full service", async () => {
    expect(await ask("tiny")).toMatchObject({ status: 200, level: "full" });
    const pid = await svc().workerPid();
    const parent = await memoryCgroupOf(pid);
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "load-oom");
    // 32 MiB for what the worker allocates from now on: serving tiny fits, loading small does not.
    const state = await hostOom.inject(hostOom.params.parse({ limitBytes: 32 * MiB, hog: false }), ctx);
    let oomKills: number;
    try {
      expect(await ask("tiny")).toMatchObject({ status: 200, level: "full" });
      expect(alive(pid)).toBe(true);
      // This request makes the worker load small: the kernel kills it mid-load; a fallback answers.
      const during = await ask("small");
      expect(during.status).toBe(200);
      expect(during.level).not.toBe("full");
      expect(during.fallback).not.toBeNull();
      await until(10_000, () => Promise.resolve(alive(pid) ? undefined : true));
      const control = await readFile(
        join(state.group, parent.version === 1 ? "memory.oom_control" : "memory.events"),
        "utf8",
      );
      oomKills = Number(/oom_kill (\d+)/.exec(control)?.[1] ?? 0);
    } finally {
      await hostOom.revert(state, { clock: ctx.clock });
    }
    // The kernel's OOM killer acted in the group (the worker's SIGKILL came from nobody else).
    expect(oomKills).toBeGreaterThan(0);
    // The supervisor restarted it (a crash); the new worker is outside the group and loads small.
    const next = await until(30_000, async () => {
      const p = await svc().workerPid();
      return p !== pid && alive(p) ? p : undefined;
    });
    expect((await memoryCgroupOf(next)).dir).toBe(parent.dir);
    const full = await until(30_000, async () => {
      const r = await ask("small");
      return r.level === "full" ? r : undefined;
    });
    expect(full.status).toBe(200);
    // The load time reaches /metrics with the worker's next heartbeat, which may come just
    // after the first full answer (a fresh-clone CI run read the page before it).
    const samples = await until(5_000, async () => {
      const page = parseExposition(await (await fetch(`${svc().url}/metrics`)).text()).samples;
      return sampleValue(page, "faultline_model_load_seconds", { model: "small" }) === undefined
        ? undefined
        : page;
    });
    expect(
      sampleValue(samples, "faultline_worker_restarts_total", { cause: "crash" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "faultline_model_load_seconds", { model: "small" })).toBeGreaterThan(0);
  }, 150_000);
});
