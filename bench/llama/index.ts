/**
 * The real engine (engine: llama, node-llama-cpp on a generated GGUF, 1 thread) for two model
 * sizes: decode tokens/s and TTFT from streaming requests through the reference API, and
 * crash-to-ready with a real reload (kill -9 of the worker until the model is ready again in a
 * new worker: getLlama, SHA-256 check, llama.cpp load, context). Skipped with a clear error when
 * node-llama-cpp is not installed.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processRuntime } from "../../common/runtime.js";
import { SERVICE_LEVEL_HEADER, STATE_FILES } from "../../reference-service/contract.js";
import type { ModelSize } from "../../reference-service/llama/gguf-writer.js";
import { generateModel, modelsDir } from "../../reference-service/llama/model-cache.js";
import { INSTALL_HINT } from "../../reference-service/llama/runtime.js";
import { serveReference, type RunningService } from "../../reference-service/serve.js";
import { percentile, row, type BenchRow } from "../service/measure.js";

export interface LlamaBenchOptions {
  /** Streaming requests timed per size, after one warm-up. */
  readonly requests?: number;
  /** Tokens asked per request. */
  readonly maxTokens?: number;
  /** Worker kills timed per size; the median is reported. */
  readonly crashes?: number;
  readonly sizes?: readonly ModelSize[];
}

interface Stream {
  readonly ttftMs: number;
  readonly tokensPerS: number | null;
}

/** When each content token of an SSE body arrived. */
async function tokenTimes(body: AsyncIterable<Uint8Array>): Promise<number[]> {
  const times: number[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    const events = buffered.split("\n\n");
    buffered = events.pop() ?? "";
    for (const e of events) {
      const data = e.replace(/^data: /, "");
      if (data === "[DONE]") continue;
      const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
      if (parsed.choices?.[0]?.delta?.content) times.push(performance.now());
    }
  }
  return times;
}

/** One streaming chat request; TTFT at the client, decode rate over the tokens after the first. */
async function stream(url: string, i: number, maxTokens: number): Promise<Stream> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: `benchmark prompt number ${i}` }],
      max_tokens: maxTokens,
      stream: true,
    }),
  });
  if (r.status !== 200 || !r.body) throw new Error(`streaming request answered ${r.status}`);
  if (r.headers.get(SERVICE_LEVEL_HEADER) !== null) throw new Error("answered by a fallback, not the engine");
  const times = await tokenTimes(r.body);
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined) throw new Error("no token streamed");
  return {
    ttftMs: first - t0,
    tokensPerS: times.length > 1 && last > first ? ((times.length - 1) * 1000) / (last - first) : null,
  };
}

async function modelReady(url: string, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    const r = await fetch(`${url}/v2/models/m/ready`).catch(() => null);
    await r?.body?.cancel();
    if (r?.status === 200) return true;
    if (performance.now() >= end) return false;
    await sleep(5);
  }
}

const readPid = async (stateDir: string): Promise<number> =>
  Number((await readFile(join(stateDir, STATE_FILES.workerPid), "utf8").catch(() => "0")).trim());

/** kill -9 the worker; ms until a new worker has the model loaded (/v2/models/m/ready 200). */
async function crashToReady(svc: RunningService, stateDir: string): Promise<number> {
  const old = await readPid(stateDir);
  const t0 = performance.now();
  process.kill(old, "SIGKILL");
  while (performance.now() - t0 < 60_000) {
    const pid = await readPid(stateDir);
    if (pid > 0 && pid !== old && (await modelReady(svc.url, 0))) return performance.now() - t0;
    await sleep(2);
  }
  throw new Error("model not ready in a new worker within 60 s of kill -9");
}

async function benchSize(dir: string, size: ModelSize, o: Required<LlamaBenchOptions>): Promise<BenchRow[]> {
  const stateDir = join(dir, size);
  const m = await generateModel({ size, seed: 1, dir: modelsDir(stateDir) });
  const svc = await serveReference(
    {
      config: {
        port: 0,
        stateDir,
        fallback: { cache: false },
        supervisor: { cooldownMs: 1, budgetRestarts: 1000 },
        worker: {
          engine: "llama",
          preload: "m",
          llama: { threads: 1, sequences: 1 },
          models: [
            {
              name: "m",
              device: "cpu",
              task: "generate",
              sizeBytes: m.bytes,
              loadMs: 0,
              prefillMs: 0,
              prefillMsPerToken: 0,
              msPerToken: 0,
              contextTokens: 512,
              ggufPath: m.path,
              sha256: m.sha256,
            },
          ],
        },
      },
      workerStderr: "ignore",
    },
    { ...processRuntime(), cwd: dir },
  );
  try {
    if (!(await modelReady(svc.url, 120_000))) throw new Error(`${size}: model not ready within 120 s`);
    await stream(svc.url, -1, o.maxTokens); // warm-up
    const runs: Stream[] = [];
    for (let i = 0; i < o.requests; i++) runs.push(await stream(svc.url, i, o.maxTokens));
    const crash: number[] = [];
    for (let i = 0; i < o.crashes; i++) {
      crash.push(await crashToReady(svc, stateDir));
      await sleep(200);
    }
    const ttft = runs.map((r) => r.ttftMs).sort((a, b) => a - b);
    const rates = runs.flatMap((r) => (r.tokensPerS === null ? [] : [r.tokensPerS])).sort((a, b) => a - b);
    const mb = (m.bytes / 1024 ** 2).toFixed(1);
    const name = `llama ${size} (${mb} MB, 1 thread)`;
    crash.sort((a, b) => a - b);
    return [
      row(
        `${name}: decode tokens/s, median of ${rates.length} streams of ${o.maxTokens}`,
        percentile(rates, 50),
        "tok/s",
      ),
      row(`${name}: TTFT p50 through the API (${ttft.length} streams)`, percentile(ttft, 50), "ms"),
      row(`${name}: TTFT p99 through the API (${ttft.length} streams)`, percentile(ttft, 99), "ms"),
      row(
        `${name}: crash-to-ready with a real reload, kill -9 -> model ready (median of ${crash.length})`,
        percentile(crash, 50),
        "ms",
      ),
    ];
  } finally {
    await svc.forceClose();
  }
}

export async function runLlamaBenchmarks(options: LlamaBenchOptions = {}): Promise<BenchRow[]> {
  const o: Required<LlamaBenchOptions> = {
    requests: options.requests ?? 40,
    maxTokens: options.maxTokens ?? 32,
    crashes: options.crashes ?? 3,
    sizes: options.sizes ?? ["tiny", "small"],
  };
  // The optional dependency: without it the worker would only exit and restart until the timeout.
  await import("node-llama-cpp").catch(() => {
    throw new Error(`node-llama-cpp is not installed (engine llama is optional): ${INSTALL_HINT}`);
  });
  const dir = await mkdtemp(join(tmpdir(), "faultline-bench-llama-"));
  try {
    const rows: BenchRow[] = [];
    for (const size of o.sizes) rows.push(...(await benchSize(dir, size, o)));
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
