/**
 * Acceptance: each fault kind against the real reference service (API process + supervised
 * worker process, real spool, simulated GPU), driven through the real adapter's handles. Each
 * case shows the effect through the client or the service's own /metrics, then that after
 * revert the service is as before. One service is shared; cases run in order.
 */
import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { FaultJournal } from "../../../harness/faults/journal.js";
import { FaultScheduler } from "../../../harness/faults/scheduler.js";
import type { TargetHandles } from "../../../harness/faults/injector.js";
import { startReference } from "../../../harness/targets/reference/process.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../../harness/toxiproxy/server.js";
import { Toxiproxy } from "toxiproxy-node-client";
import type { RunningTarget } from "../../../harness/targets/target.js";
import { METRICS, ROUTES, SERVICE_LEVEL_HEADER, STATE_FILES } from "../../../reference-service/contract.js";
import { readProcStat } from "../../../harness/faults/proc.js";
import { findGroups } from "../../../harness/faults/cgroup.js";
import { ipcCorruptionProgress } from "../../../harness/faults/kinds/ipc-corruption.js";
import { readHeartbeat } from "../../../reference-service/ipc/protocol.js";
import { waitForState } from "./helpers.js";

let target: RunningTarget;
let home: string;
let journal: FaultJournal;
let toxi: ToxiproxyServer;
/** The client -> API link: the service as a client reaches it through the embedded Toxiproxy. */
let viaProxy: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "faultline-accept-"));
  journal = new FaultJournal(join(home, "journal"));
  // The default half-open delay is 60 s; a short one lets each case see full service again.
  // The adapter writes `options` as the service's JSON config file, so it takes the nested form.
  const options = { breaker: { halfOpenAfterMs: 1500 } };
  target = await startReference(
    { kind: "reference", options, restart: "always", upstreamLink: false, modelSource: false, replicas: 1 },
    {
      clock: systemClock,
      runDir: home,
      env: {},
      originMs: () => 0,
      onEvent: () => undefined,
      // upstreamLink is off, so the adapter never asks for a link.
      link: (_name, upstreamUrl) => Promise.resolve(upstreamUrl),
    },
  );
  toxi = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 3 });
  const proxy = await new Toxiproxy(toxi.url).createProxy({
    name: "client-api",
    listen: "127.0.0.1:0",
    upstream: new URL(target.url).host,
  });
  viaProxy = `http://${proxy.listen}`;
}, 60_000);

afterAll(async () => {
  await toxi.close();
  await target.stop();
  await rm(home, { recursive: true, force: true });
}, 30_000);

/** One chat request; a refused or reset connection is status 0. */
async function chat(base = target.url): Promise<{ status: number; level: string; ms: number }> {
  const t0 = performance.now();
  try {
    const r = await fetch(`${base}${ROUTES.chat}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "sim-utility",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 4,
      }),
      signal: AbortSignal.timeout(20_000),
    });
    await r.text();
    return {
      status: r.status,
      level: r.headers.get(SERVICE_LEVEL_HEADER) ?? "full",
      ms: performance.now() - t0,
    };
  } catch {
    return { status: 0, level: "unavailable", ms: performance.now() - t0 };
  }
}

const answer = async (base?: string) => {
  const { status, level } = await chat(base);
  return { status, level };
};

/** Sum of a metric's series whose labels include every `labels` pair. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${target.url}${ROUTES.metrics}`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith("{") || rest.startsWith(" "))) continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Polls `fn` until `ok` (the service recovers on its own schedule). */
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = () =>
  until(
    () => answer(),
    (c) => c.status === 200 && c.level === "full",
  );

let current: FaultScheduler | null = null;

/** One scheduler per case; afterEach reverts it even when the case failed half-way. */
function scheduler(targets: Record<string, TargetHandles>) {
  current = new FaultScheduler([], { clock: systemClock, journal, targets, seed: 3 });
  return current;
}

afterEach(async () => {
  await current?.revertAll();
  current = null;
});

/** The co-tenant bytes the worker's simulated device sees (from its heartbeat). */
async function cotenantBytes(): Promise<number | null> {
  const hb = await readHeartbeat(target.handles.stateDir ?? "");
  return hb.ok ? hb.heartbeat.vram.cotenantBytes : null;
}

describe("faults against the real reference service", () => {
  it("starts healthy", async () => {
    expect(await healthy()).toEqual({ status: 200, level: "full" });
  });

  it("process-kill worker: a new worker is started and the service answers fully again", async () => {
    const h = target.handles;
    const before = await h.pidOf?.("worker");
    const restarts = await metric(METRICS.workerRestarts);
    const s = scheduler({ worker: h });
    const o = await s.injectNow("process-kill", "worker", {});
    expect(o.status).toBe("done");
    expect(await waitForState(before ?? -1, "gone")).toBe("gone");
    const after = await until(
      () => h.pidOf?.("worker") ?? Promise.resolve(null),
      (p) => p !== null && p !== before,
    );
    expect(after).not.toBe(before);
    expect(
      await until(
        () => metric(METRICS.workerRestarts),
        (v) => v === restarts + 1,
      ),
    ).toBe(restarts + 1);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    await s.revertAll();
    expect(await readdir(journal.dir)).toEqual([]);
  }, 60_000);

  it("process-freeze worker: the worker is stopped (T) while held; after revert the service is full again", async () => {
    const h = target.handles;
    const pid = (await h.pidOf?.("worker")) ?? -1;
    const s = scheduler({ worker: h });
    const o = await s.injectNow("process-freeze", "worker", {});
    expect(o.status).toBe("active");
    expect(await waitForState(pid, "T")).toBe("T");
    // A frozen worker cannot answer: the service answers from its CPU fallback, marked degraded.
    expect(await answer()).toEqual({ status: 200, level: "degraded" });
    await s.revertAll();
    expect((await readProcStat(pid))?.state ?? "gone").not.toBe("T");
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    expect(await readdir(journal.dir)).toEqual([]);
  }, 60_000);

  it("gpu-oom: the worker's device sees the co-tenant reservation, and not after revert", async () => {
    const h = target.handles;
    const total = (await h.gpuTotalBytes?.()) ?? 0;
    expect(await cotenantBytes()).toBe(0);
    const s = scheduler({ gpu: h });
    await s.injectNow("gpu-oom", "gpu", { fraction: 0.5 });
    expect(await until(cotenantBytes, (v) => v === total / 2)).toBe(total / 2);
    await s.revertAll();
    expect(await readdir(join(h.stateDir ?? "", STATE_FILES.gpuCotenants))).toEqual([]);
    expect(await until(cotenantBytes, (v) => v === 0)).toBe(0);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
  }, 60_000);

  it("ipc-corruption wrong-schema: the service counts exactly the planted frames as bad-schema", async () => {
    const h = target.handles;
    const bad = await metric(METRICS.ipcFramesCorrupt, { kind: "bad-schema" });
    const s = scheduler({ spool: h });
    await s.injectNow("ipc-corruption", "spool", { mode: "wrong-schema", burst: 3 });
    expect(
      await until(
        () => metric(METRICS.ipcFramesCorrupt, { kind: "bad-schema" }),
        (v) => v === bad + 3,
      ),
    ).toBe(bad + 3);
    await s.revertAll();
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    expect(await readdir(join(h.stateDir ?? "", STATE_FILES.spoolRequests))).toEqual([]);
  }, 60_000);

  /**
   * Victim modes damage frames the service wrote, and its reader races the injector for each
   * one. To make the count exact, the reader (the worker) is frozen while requests pile up
   * as frames, the corruption hits those frames, then the worker is thawed and finds them.
   */
  async function corruptPiledUpFrames(mode: string, kinds: readonly string[]) {
    const h = target.handles;
    const requests = join(h.stateDir ?? "", STATE_FILES.spoolRequests);
    const count = async () => {
      const all = await Promise.all(kinds.map((k) => metric(METRICS.ipcFramesCorrupt, { kind: k })));
      return all.reduce((a, b) => a + b, 0);
    };
    const before = await count();
    const s = scheduler({ worker: h, spool: h });
    const freeze = await s.injectNow("process-freeze", "worker", {});
    const answers = Promise.all(Array.from({ length: 6 }, () => answer()));
    const frames = await until(
      () => readdir(requests),
      (names) => names.filter((n) => n.endsWith(".frame")).length >= 3,
      5000,
    );
    const o = await s.injectNow("ipc-corruption", "spool", { mode, burst: 3 });
    const made = (await ipcCorruptionProgress(o.occurrenceId))?.done ?? -1;
    await s.revertOne(freeze.occurrenceId);
    const seen = await until(count, (v) => v - before >= 3, 5000);
    await s.revertAll();
    return { piled: frames.length >= 3, made, seen: seen - before, answers: await answers };
  }

  it("ipc-corruption truncate: each corrupted request frame is caught, and every request answered", async () => {
    const r = await corruptPiledUpFrames("truncate", ["truncated", "empty"]);
    expect([r.piled, r.made, r.seen]).toEqual([true, 3, 3]);
    expect(r.answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
  }, 60_000);

  it("ipc-corruption unreadable as root (symlink loop): counted as unreadable, nothing left behind", async () => {
    const r = await corruptPiledUpFrames("unreadable", ["unreadable"]);
    expect([r.piled, r.made, r.seen]).toEqual([true, 3, 3]);
    expect(r.answers.filter((a) => a.status !== 200)).toEqual([]);
    const spool = join(target.handles.stateDir ?? "", STATE_FILES.spoolDir);
    const links: string[] = [];
    for (const d of ["requests", "responses", "quarantine"]) {
      for (const n of await readdir(join(spool, d))) {
        if ((await lstat(join(spool, d, n))).isSymbolicLink()) links.push(n);
      }
    }
    expect(links).toEqual([]);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
  }, 60_000);

  it("host-oom worker: the kernel OOM-kills the worker, the supervisor replaces it, revert leaves no cgroup", async () => {
    const h = target.handles;
    const before = await h.pidOf?.("worker");
    const s = scheduler({ worker: h });
    const o = await s.injectNow("host-oom", "worker", { limitBytes: 96 * 1024 * 1024 });
    expect(o.status).toBe("active");
    expect(await waitForState(before ?? -1, "gone", 15_000)).toBe("gone");
    expect(
      await until(
        () => h.pidOf?.("worker") ?? Promise.resolve(null),
        (p) => p !== null && p !== before,
      ),
    ).not.toBe(before);
    await s.revertAll();
    expect(await findGroups(`faultline-${o.occurrenceId}`)).toEqual([]);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    expect(await readdir(journal.dir)).toEqual([]);
  }, 60_000);

  it("process-term api: the API stops, the adapter restarts it, and the service answers fully", async () => {
    const h = target.handles;
    const before = await h.pidOf?.("api");
    const s = scheduler({ api: h });
    await s.injectNow("process-term", "api", { scope: "process" });
    expect(
      await until(
        () => answer(),
        (c) => c.status === 0,
        5000,
      ),
    ).toEqual({ status: 0, level: "unavailable" });
    expect(
      await until(
        () => h.pidOf?.("api") ?? Promise.resolve(null),
        (p) => p !== null && p !== before,
      ),
    ).not.toBe(before);
    expect(await healthy()).toEqual({ status: 200, level: "full" });
  }, 60_000);

  it("net-latency on the client link: the client sees the added latency, and not after revert", async () => {
    const links = { toxiproxy: { url: toxi.url, links: { api: "client-api" } } };
    const s = scheduler({ "link:api": links });
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    const before = await chat(viaProxy);
    await s.injectNow("net-latency", "link:api", { latency: 600 });
    const during = await chat(viaProxy);
    await s.revertAll();
    const after = await chat(viaProxy);
    expect([before.status, during.status, after.status]).toEqual([200, 200, 200]);
    // The toxic delays the response by 600 ms; the upper bound only catches a hang on a busy box.
    expect(during.ms).toBeGreaterThanOrEqual(before.ms + 500);
    expect(after.ms).toBeLessThan(during.ms - 400);
    expect(await (await fetch(`${toxi.url}/proxies/client-api/toxics`)).json()).toEqual([]);
  }, 60_000);

  it("net-down on the client link: connections are refused, and the link is back after revert", async () => {
    const links = { toxiproxy: { url: toxi.url, links: { api: "client-api" } } };
    const s = scheduler({ "link:api": links });
    expect(await healthy()).toEqual({ status: 200, level: "full" });
    await s.injectNow("net-down", "link:api", {});
    expect(await answer(viaProxy)).toEqual({ status: 0, level: "unavailable" });
    expect(await answer()).toEqual({ status: 200, level: "full" }); // the service itself is fine
    await s.revertAll();
    expect(await answer(viaProxy)).toEqual({ status: 200, level: "full" });
  }, 60_000);
});
