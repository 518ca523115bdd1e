/**
 * SpoolBackend against a real worker process in a temp state dir: real files, real signals.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawnModule } from "../../../common/spawn-module.js";
import type { GenerationEvent, GenerationRequest } from "../../../reference-service/backend.js";
import {
  BackendTimeoutError,
  CorruptFrameError,
  GpuOutOfMemoryError,
  WorkerUnavailableError,
} from "../../../reference-service/backend-errors.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { embed, naturalLength, tokenText } from "../../../reference-service/gpu/synth.js";
import {
  DEFAULT_CATALOG,
  WORKER_ENTRY,
  workerArgs,
  type Heartbeat,
  type WorkerConfigInput,
} from "../../../reference-service/ipc/protocol.js";
import { encodeFrame } from "../../../reference-service/ipc/frame.js";
import { SpoolBackend } from "../../../reference-service/ipc/spool-client.js";
import { writeFileAtomic as writeFileAtomicForTest } from "../../../reference-service/ipc/spool.js";
import type { SpoolRejection } from "../../../reference-service/ipc/spool.js";

const GiB = 1024 ** 3;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const fastModels = (msPerToken: number) => DEFAULT_CATALOG.map((m) => ({ ...m, loadMs: 50, msPerToken }));

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "faultline-worker-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Running {
  readonly dir: string;
  readonly child: ChildProcess;
  readonly backend: SpoolBackend;
  readonly rejects: SpoolRejection[];
  readonly exited: Promise<number | null>;
}

async function startWorker(
  config: WorkerConfigInput,
  backendOpts: { heartbeatStaleMs?: number } = {},
): Promise<Running> {
  const dir = await stateDir();
  const child = spawnModule(WORKER_ENTRY, workerArgs(dir, config), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    }
  });
  const rejects: SpoolRejection[] = [];
  const backend = await SpoolBackend.open({
    stateDir: dir,
    onCorruptFrame: (r) => rejects.push(r),
    ...backendOpts,
  });
  cleanups.push(() => backend.close());
  // Startup under tsx on a shared 2-core machine can take seconds; the bound is generous on purpose.
  await waitFor(
    () => {
      const s = backend.workerStatus();
      return s.ok && s.heartbeat.phase === "ready";
    },
    20_000,
    () => `worker never became ready; stderr: ${stderr}`,
  );
  return { dir, child, backend, rejects, exited };
}

async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: () => string = () => "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const chat = (id: string, prompt: string, maxTokens: number, deadlineMs = 20_000): GenerationRequest => ({
  id,
  kind: "chat",
  model: "sim-utility",
  prompt,
  maxTokens,
  stream: true,
  deadlineAtMs: Date.now() + deadlineMs,
});

function iter(b: SpoolBackend, req: GenerationRequest, signal: AbortSignal): AsyncIterator<GenerationEvent> {
  return b.generate(req, signal)[Symbol.asyncIterator]();
}

/** Reads an iterator to its end; resolves or rejects as the stream does. */
async function rest(it: AsyncIterator<GenerationEvent>): Promise<void> {
  for (;;) if ((await it.next()).done) return;
}

async function collect(it: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const out: GenerationEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

async function failureOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure");
}

function heartbeat(b: SpoolBackend): Heartbeat {
  const s = b.workerStatus();
  if (!s.ok) throw new Error(`worker not ok: ${s.reason}`);
  return s.heartbeat;
}

describe("SpoolBackend with a real worker process", () => {
  it("streams chat tokens, then done, exactly as the simulated model defines them", async () => {
    const w = await startWorker({ models: fastModels(2) });
    const prompt = "hello spool world";
    const events = await collect(w.backend.generate(chat("c1", prompt, 5), new AbortController().signal));
    const n = Math.min(5, naturalLength(prompt));
    expect(events).toEqual([
      ...Array.from({ length: n }, (_, i) => ({ type: "token", index: i, text: tokenText(prompt, i) })),
      {
        type: "done",
        finishReason: n < naturalLength(prompt) ? "length" : "stop",
        usage: { promptTokens: 3, completionTokens: n },
      },
    ]);
    expect(w.rejects).toEqual([]);
    expect(w.backend.inFlight).toBe(0);
  });

  it("answers embeddings from the CPU model", async () => {
    const w = await startWorker({ models: fastModels(2) });
    const req: GenerationRequest = {
      ...chat("e1", "", 0),
      kind: "embedding",
      model: "sim-embed",
      inputs: ["a b", "c"],
    };
    const events = await collect(w.backend.generate(req, new AbortController().signal));
    expect(events).toEqual([
      {
        type: "embedding",
        vectors: [embed("a b", 16), embed("c", 16)],
        usage: { promptTokens: 3, completionTokens: 0 },
      },
    ]);
  });

  it("cancels on abort: the worker's running count and KV return to 0", async () => {
    const w = await startWorker({ models: fastModels(100) }); // ~3 s of tokens
    const ac = new AbortController();
    const it = iter(w.backend, chat("long", "a long answer please", 1000), ac.signal);
    expect((await it.next()).value).toEqual({
      type: "token",
      index: 0,
      text: tokenText("a long answer please", 0),
    });
    await waitFor(() => heartbeat(w.backend).running === 1, 5000);
    ac.abort(new Error("client went away"));
    const err = await failureOf(it.next());
    expect(err.message).toBe("client went away");
    await waitFor(
      () => {
        const hb = heartbeat(w.backend);
        return hb.running === 0 && hb.vram.kvBytes === 0;
      },
      5000,
      () => JSON.stringify(heartbeat(w.backend)),
    );
    expect(heartbeat(w.backend).requestIds).toEqual([]);
    expect(w.backend.inFlight).toBe(0);
  });

  it("fails every in-flight request with WorkerUnavailableError within 1 s of kill -9", async () => {
    const w = await startWorker({ models: fastModels(100) });
    const iters = ["k1", "k2", "k3"].map((id) =>
      iter(w.backend, chat(id, `prompt ${id}`, 1000), new AbortController().signal),
    );
    for (const it of iters) expect((await it.next()).done).toBe(false);
    const killedAt = Date.now();
    w.child.kill("SIGKILL");
    const errors = await Promise.all(iters.map(async (it) => failureOf(rest(it))));
    const elapsed = Date.now() - killedAt;
    expect(errors.map((e) => e.constructor.name)).toEqual([
      "WorkerUnavailableError",
      "WorkerUnavailableError",
      "WorkerUnavailableError",
    ]);
    // Detection is one heartbeat poll (50 ms) plus a pid check; 1 s leaves room for event-loop
    // lag on a 2-core machine shared by several test runs, and is still far below any deadline.
    expect(elapsed).toBeLessThan(1000);
    // New calls are refused at once while no worker is up.
    await expect(
      collect(w.backend.generate(chat("after", "x", 1), new AbortController().signal)),
    ).rejects.toThrow(WorkerUnavailableError);
  });

  it("the same SpoolBackend serves through a new worker in the same state dir after kill -9", async () => {
    const w = await startWorker({ models: fastModels(100) });
    const it = iter(w.backend, chat("before", "before the crash", 1000), new AbortController().signal);
    expect((await it.next()).done).toBe(false);
    w.child.kill("SIGKILL");
    expect(await failureOf(rest(it))).toBeInstanceOf(WorkerUnavailableError);
    const oldPid = w.child.pid;
    const second = spawnModule(WORKER_ENTRY, workerArgs(w.dir, { models: fastModels(2) }), {
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => second.on("exit", resolve));
    cleanups.push(async () => {
      if (second.exitCode === null && second.signalCode === null) {
        second.kill("SIGKILL");
        await exited;
      }
    });
    await waitFor(() => {
      const st = w.backend.workerStatus();
      return st.ok && st.heartbeat.pid !== oldPid && st.heartbeat.phase === "ready";
    }, 20_000);
    const events = await collect(
      w.backend.generate(chat("after", "after the crash", 3), new AbortController().signal),
    );
    expect(events.map((e) => e.type)).toEqual(["token", "token", "token", "done"]);
    expect(w.rejects).toEqual([]);
  });

  it("a co-tenant reservation makes the load fail with a CUDA OOM; deleting it lets the next load succeed", async () => {
    const w = await startWorker({ models: fastModels(2), preload: null });
    const cotenant = join(w.dir, STATE_FILES.gpuCotenants, "harness.json");
    await writeFile(
      cotenant,
      JSON.stringify({ bytes: 7 * GiB, owner: "test", createdAt: new Date().toISOString() }),
    );
    await waitFor(() => heartbeat(w.backend).vram.cotenantBytes === 7 * GiB, 5000);
    const err = await failureOf(w.backend.loadModel("sim-utility"));
    expect(err).toBeInstanceOf(GpuOutOfMemoryError);
    expect(err.message).toBe(
      "CUDA out of memory. Tried to allocate 2.25 GiB (GPU 0; 8.00 GiB total capacity; 0.50 GiB already allocated; 512.00 MiB free)",
    );
    await waitFor(() => heartbeat(w.backend).models[0]?.state === "failed", 5000);
    const genErr = await failureOf(
      collect(w.backend.generate(chat("g", "x", 2), new AbortController().signal)),
    );
    expect(genErr).toBeInstanceOf(GpuOutOfMemoryError);

    await unlink(cotenant);
    expect(await w.backend.loadModel("sim-utility")).toBe("ready");
    const events = await collect(w.backend.generate(chat("g2", "x", 2), new AbortController().signal));
    expect(events.map((e) => e.type)).toEqual(["token", "token", "done"]);
  });

  it("fails only the request whose response frame is corrupt, and counts it", async () => {
    const w = await startWorker({ models: fastModels(50) });
    const victim = w.backend.generate(chat("victim", "victim prompt", 1000), new AbortController().signal);
    const bystander = w.backend.generate(chat("bystander", "other prompt", 5), new AbortController().signal);
    const vIt = victim[Symbol.asyncIterator]();
    expect((await vIt.next()).done).toBe(false); // wire ids are "<id>~<n>": victim~1
    const bystanderDone = collect(bystander);
    // Placed atomically like any frame: the reader reads at once, and would otherwise catch
    // writeFile's empty first state (a different kind, "empty").
    const staged = join(w.dir, "corrupt-staging");
    await writeFile(staged, "not a frame at all");
    await rename(staged, join(w.dir, STATE_FILES.spoolResponses, "9999999999-victim~1.frame"));
    const err = await failureOf(rest(vIt));
    expect(err).toBeInstanceOf(CorruptFrameError);
    expect((err as CorruptFrameError).reason).toBe("bad-magic");
    expect((await bystanderDone).at(-1)?.type).toBe("done");
    expect(w.rejects.map((r) => [r.kind, r.requestId])).toEqual([["bad-magic", "victim~1"]]);
    expect((await readdir(join(w.dir, STATE_FILES.spoolQuarantine))).length).toBe(1);
    await waitFor(() => heartbeat(w.backend).running === 0, 5000); // the victim was cancelled
  });

  it("the worker quarantines a corrupt request frame, counts it in the heartbeat and keeps serving", async () => {
    const w = await startWorker({ models: fastModels(2) });
    await writeFile(join(w.dir, STATE_FILES.spoolRequests, "0000000001-junk~1.frame"), Buffer.alloc(0));
    await waitFor(() => heartbeat(w.backend).counters.framesRejected.empty === 1, 5000);
    const events = await collect(w.backend.generate(chat("ok", "x", 2), new AbortController().signal));
    expect(events.map((e) => e.type)).toEqual(["token", "token", "done"]);
    // The worker's NAK for "junk~1" reaches a client that never sent it: not counted twice.
    expect(w.rejects).toEqual([]);
  });

  it("a stopped (SIGSTOP) worker fails in-flight calls once its heartbeat is stale", async () => {
    const w = await startWorker({ models: fastModels(100) }, { heartbeatStaleMs: 400 });
    const it = iter(w.backend, chat("h", "hang", 1000), new AbortController().signal);
    expect((await it.next()).done).toBe(false);
    w.child.kill("SIGSTOP");
    const err = await failureOf(rest(it));
    expect(err).toBeInstanceOf(WorkerUnavailableError);
    expect(err.message).toMatch(/^worker heartbeat is stale \(\d+ ms old\)$/);
  });

  it("SIGTERM: the worker finishes the in-flight request, then exits 0", async () => {
    const w = await startWorker({ models: fastModels(20) });
    const prompt = "finish me";
    const it = w.backend.generate(chat("t", prompt, 10), new AbortController().signal);
    const all = collect(it);
    await waitFor(() => heartbeat(w.backend).running === 1, 5000);
    w.child.kill("SIGTERM");
    const events = await all;
    expect(events.at(-1)).toEqual({
      type: "done",
      finishReason: naturalLength(prompt) > 10 ? "length" : "stop",
      usage: { promptTokens: 2, completionTokens: Math.min(10, naturalLength(prompt)) },
    });
    expect(await w.exited).toBe(0);
  });
});

describe("corruption storm", () => {
  it("300 bad files in both spool directories while 20 requests flow: all 20 complete, every bad file counted once", async () => {
    const w = await startWorker({ models: fastModels(5), maxRunning: 8 });
    let seed = 99;
    const rand = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const valid = (id: string): Buffer =>
      encodeFrame({ seq: 1 + rand(1000), requestId: id }, { type: "cancel", sentAtMs: Date.now() });
    const makers: ((id: string) => Buffer)[] = [
      () => Buffer.alloc(0),
      () => Buffer.from(Array.from({ length: 1 + rand(200) }, () => rand(256))),
      (id) => valid(id).subarray(0, 5 + rand(20)),
      (id) => {
        const b = valid(id);
        const at = 4 + rand(b.length - 4);
        b[at] = (b[at] ?? 0) ^ (1 << rand(8));
        return b;
      },
      (id) => encodeFrame({ seq: 1, requestId: id }, { type: "faultline-wrong-schema" }),
      (id) => {
        const b = valid(id);
        b.writeUInt32BE(0xfffffff0, 11 + id.length);
        return b;
      },
    ];
    const requests = Array.from({ length: 20 }, (_, i) =>
      collect(w.backend.generate(chat(`ok${i}`, `prompt number ${i}`, 8), new AbortController().signal)),
    );
    const planted = { requests: 0, responses: 0 };
    for (let i = 0; i < 300; i++) {
      const where = i % 2 === 0 ? "requests" : "responses";
      const id = `junk${i}~1`;
      const maker = makers[rand(makers.length)];
      await writeFileAtomicForTest(
        join(w.dir, "spool", where),
        `${String(i).padStart(10, "0")}-${id}.frame`,
        maker(id),
      );
      planted[where]++;
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const results = await Promise.all(requests);
    expect(results.map((r) => r.at(-1)?.type)).toEqual(Array.from({ length: 20 }, () => "done"));
    await waitFor(
      () => w.rejects.length >= planted.responses,
      10_000,
      () => `${w.rejects.length} client rejections`,
    );
    await waitFor(
      () =>
        Object.values(heartbeat(w.backend).counters.framesRejected).reduce((a, b) => a + b, 0) >=
        planted.requests,
      10_000,
    );
    expect(w.rejects.length).toBe(planted.responses);
    expect(Object.values(heartbeat(w.backend).counters.framesRejected).reduce((a, b) => a + b, 0)).toBe(
      planted.requests,
    );
    expect(w.child.exitCode).toBe(null);
  });
});

describe("SpoolBackend without a worker reading (fake fresh heartbeat)", () => {
  async function fakeWorker() {
    const dir = await stateDir();
    await mkdir(join(dir, STATE_FILES.spoolDir), { recursive: true });
    const beat = async (): Promise<void> => {
      const hb = {
        seq: 1,
        pid: process.pid,
        phase: "ready",
        startedAtMs: Date.now(),
        atMs: Date.now(),
        intervalMs: 100,
        running: 0,
        waiting: 0,
        lastTokenAtMs: null,
        vram: {
          usedBytes: 0,
          totalBytes: 1,
          cotenantBytes: 0,
          reservedBytes: 0,
          weightsBytes: 0,
          kvBytes: 0,
        },
        kvUsage: 0,
        models: [],
        requestIds: [],
        counters: {
          promptTokens: 0,
          generationTokens: 0,
          preemptions: 0,
          requestsFinished: 0,
          oomErrors: 0,
          framesRejected: {},
        },
      };
      await writeFile(join(dir, STATE_FILES.heartbeat), JSON.stringify(hb));
    };
    await beat();
    const timer = setInterval(() => void beat(), 50);
    cleanups.push(() => clearInterval(timer));
    const rejects: SpoolRejection[] = [];
    const backend = await SpoolBackend.open({
      stateDir: dir,
      acceptTimeoutMs: 200,
      onCorruptFrame: (r) => rejects.push(r),
    });
    cleanups.push(() => backend.close());
    return { dir, backend, rejects };
  }

  it("a request frame deleted before the worker read it fails that request as lost", async () => {
    const { dir, backend, rejects } = await fakeWorker();
    const p = collect(backend.generate(chat("gone", "x", 1), new AbortController().signal));
    const reqDir = join(dir, STATE_FILES.spoolRequests);
    let files: string[] = [];
    for (let i = 0; i < 500 && files.length === 0; i++) {
      files = (await readdir(reqDir)).filter((f) => !f.startsWith(".")); // not the writer's temp file
      if (files.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(files).toEqual(["0000000001-gone~1.frame"]);
    await unlink(join(reqDir, files[0]));
    const err = await failureOf(p);
    expect(err).toBeInstanceOf(CorruptFrameError);
    expect((err as CorruptFrameError).reason).toBe("deleted");
    expect(rejects.map((r) => [r.kind, r.requestId])).toEqual([["deleted", "gone~1"]]);
  });

  it("a request nobody answers ends with BackendTimeoutError at its deadline and a cancel frame", async () => {
    const { dir, backend } = await fakeWorker();
    const err = await failureOf(
      collect(backend.generate(chat("slow", "x", 1, 400), new AbortController().signal)),
    );
    expect(err).toBeInstanceOf(BackendTimeoutError);
    expect((await readdir(join(dir, STATE_FILES.spoolRequests))).sort()).toEqual([
      "0000000001-slow~1.frame",
      "0000000002-slow~1.frame", // the cancel
    ]);
  });
});
