import { afterAll, beforeAll } from "vitest";
import { FALLBACK_HEADER, SERVICE_LEVEL_HEADER } from "../../../reference-service/contract.js";
import { startService, waitReady, type ServiceProcess } from "../e2e/service-process.js";

/**
 * What the real-engine e2e tests share: a catalog entry for a model the service generates at
 * start (catalog `generate`), one reference service per test file, a completion request read
 * as the harness reads it, and a bounded poll.
 */
export function generatedModel(name: string, size: "tiny" | "small", seed: number, contextTokens = 256) {
  return {
    name,
    device: "cpu",
    task: "generate",
    sizeBytes: 0,
    loadMs: 0,
    prefillMs: 0,
    prefillMsPerToken: 0,
    msPerToken: 0,
    contextTokens,
    generate: { size, seed },
  };
}

/** Starts the service with `config` before the file's tests and stops it after; returns a getter. */
export function useLlamaService(config: object): () => ServiceProcess {
  let s: ServiceProcess | undefined;
  beforeAll(async () => {
    s = await startService([], config);
    await waitReady(s.url, 90_000); // node-llama-cpp tests its binary in a child process first
  }, 120_000);
  afterAll(() => s?.cleanup());
  return () => {
    if (s === undefined) throw new Error("the service has not started");
    return s;
  };
}

export interface Answer {
  readonly status: number;
  /** A full-service answer carries no level header; fallbacks name their level and backend. */
  readonly level: string;
  readonly fallback: string | null;
  readonly ms: number;
}

/** One short completion from `model`, body read to the end. */
export async function askCompletion(url: string, model: string): Promise<Answer> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: "hello", max_tokens: 4 }),
  });
  await r.text();
  return {
    status: r.status,
    level: r.headers.get(SERVICE_LEVEL_HEADER) ?? "full",
    fallback: r.headers.get(FALLBACK_HEADER),
    ms: performance.now() - t0,
  };
}

/** Polls `probe` every `everyMs` until it returns a value, at most `ms` (real time: real processes). */
export async function until<T>(ms: number, probe: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
