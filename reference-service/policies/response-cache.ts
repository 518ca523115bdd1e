/**
 * Answers the full service gave before, by request kind + model + prompt, bounded (LRU).
 * The `degraded` fallback replays them: a client asking the same thing again while the
 * worker is down gets the answer it would have got.
 */
import type { FinishReason, GenerationEvent, GenerationRequest, ModelBackend, Usage } from "../backend.js";
import { FallbackMissError } from "./fallback-miss-error.js";

export type CachedAnswer =
  | {
      readonly kind: "text";
      readonly tokens: readonly string[];
      readonly finishReason: FinishReason;
      readonly usage: Usage;
    }
  | { readonly kind: "embedding"; readonly vectors: readonly (readonly number[])[]; readonly usage: Usage };

export function cacheKey(req: GenerationRequest): string {
  const inputs = req.inputs ? JSON.stringify(req.inputs) : "";
  return `${req.kind}\u0000${req.model}\u0000${req.prompt}\u0000${inputs}`;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedAnswer>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(req: GenerationRequest): CachedAnswer | undefined {
    const key = cacheKey(req);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  put(req: GenerationRequest, answer: CachedAnswer): void {
    const key = cacheKey(req);
    this.entries.delete(key);
    this.entries.set(key, answer);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** Collects a full-service answer from its events, to store it. */
export class AnswerRecorder {
  private readonly tokens: string[] = [];
  private answer: CachedAnswer | undefined;

  observe(event: GenerationEvent): void {
    switch (event.type) {
      case "token":
        this.tokens.push(event.text);
        return;
      case "done":
        this.answer = {
          kind: "text",
          tokens: [...this.tokens],
          finishReason: event.finishReason,
          usage: event.usage,
        };
        return;
      case "embedding":
        this.answer = { kind: "embedding", vectors: event.vectors, usage: event.usage };
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  result(): CachedAnswer | undefined {
    return this.answer;
  }
}

export class CacheBackend implements ModelBackend {
  readonly name = "cache";
  constructor(private readonly cache: ResponseCache) {}

  async *generate(req: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    const hit = this.cache.get(req);
    if (!hit) throw new FallbackMissError(this.name, "no cached answer for this prompt");
    signal.throwIfAborted();
    if (hit.kind === "embedding") {
      yield { type: "embedding", vectors: hit.vectors, usage: hit.usage };
      return;
    }
    for (const [index, text] of hit.tokens.entries()) yield { type: "token", index, text };
    yield { type: "done", finishReason: hit.finishReason, usage: hit.usage };
    await Promise.resolve();
  }
}
