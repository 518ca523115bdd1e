/** The minimal level: a fixed answer that costs nothing and cannot fail. No static embeddings. */
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../backend.js";
import { FallbackMissError } from "./fallback-miss-error.js";
import { countTokens, toTokens } from "./text-tokens.js";

export class StaticAnswerBackend implements ModelBackend {
  readonly name = "static";
  constructor(private readonly answer: string) {}

  async *generate(req: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    if (req.kind === "embedding") throw new FallbackMissError(this.name, "no static embedding exists");
    signal.throwIfAborted();
    const tokens = toTokens(this.answer).slice(0, req.maxTokens);
    for (const [index, text] of tokens.entries()) yield { type: "token", index, text };
    yield {
      type: "done",
      finishReason: "stop",
      usage: { promptTokens: countTokens(req.prompt), completionTokens: tokens.length },
    };
    await Promise.resolve();
  }
}
