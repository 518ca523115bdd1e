/**
 * The smaller CPU model of the degraded level: an in-process generator that needs no worker
 * and no GPU. Deterministic text and embeddings derived from the prompt, at a configurable
 * per-token latency, so a degraded answer costs time as a small real model would.
 */
import type { Clock } from "../../common/clock.js";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../backend.js";
import { countTokens, hash32 } from "./text-tokens.js";

const WORDS = [
  "the",
  "model",
  "is",
  "running",
  "on",
  "a",
  "small",
  "cpu",
  "fallback",
  "answer",
  "while",
  "gpu",
  "recovers",
];
export const CPU_EMBEDDING_DIMENSIONS = 16;

export function cpuEmbedding(text: string, dims = CPU_EMBEDDING_DIMENSIONS): number[] {
  let seed = hash32(text) || 1;
  const raw: number[] = [];
  for (let i = 0; i < dims; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    raw.push(seed / 0xffffffff - 0.5);
  }
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1;
  return raw.map((x) => x / norm);
}

export class CpuModelBackend implements ModelBackend {
  readonly name = "cpu-model";
  constructor(
    private readonly clock: Clock,
    private readonly tokenMs: number,
    private readonly maxTokens = 16,
  ) {}

  async *generate(req: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    if (req.kind === "embedding") {
      const inputs = req.inputs ?? [req.prompt];
      const usage = { promptTokens: inputs.reduce((s, t) => s + countTokens(t), 0), completionTokens: 0 };
      yield { type: "embedding", vectors: inputs.map((t) => cpuEmbedding(t)), usage };
      return;
    }
    const n = Math.min(req.maxTokens, this.maxTokens);
    let h = hash32(req.prompt);
    for (let index = 0; index < n; index++) {
      if (this.tokenMs > 0) await this.clock.sleep(this.tokenMs, signal);
      signal.throwIfAborted();
      h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
      yield { type: "token", index, text: `${WORDS[h % WORDS.length]} ` };
    }
    yield {
      type: "done",
      finishReason: n < req.maxTokens ? "stop" : "length",
      usage: { promptTokens: countTokens(req.prompt), completionTokens: n },
    };
  }
}
