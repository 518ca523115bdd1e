import type { GenerationEvent, GenerationRequest, ModelBackend } from "../../../reference-service/backend.js";

/** What the next call does. `fail` throws before any token, or after `afterTokens` tokens. */
export type Step =
  | { readonly kind: "ok"; readonly tokens?: readonly string[]; readonly tokenMs?: number }
  | { readonly kind: "fail"; readonly error: () => Error; readonly afterTokens?: number }
  | { readonly kind: "hang"; readonly afterTokens?: number };

export const EMBEDDING = [0.5, -0.25, 0.125, 1];

/** A backend whose behaviour the test scripts call by call: the policies are what is under test. */
export class ScriptedBackend implements ModelBackend {
  readonly name = "worker";
  script: Step[] = [];
  fallbackStep: Step = { kind: "ok" };
  calls = 0;
  aborted = 0;
  readonly requests: GenerationRequest[] = [];

  async *generate(req: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    this.calls++;
    this.requests.push(req);
    const step = this.script.shift() ?? this.fallbackStep;
    try {
      yield* this.run(step, req, signal);
    } catch (e) {
      if (signal.aborted) this.aborted++;
      throw e;
    }
  }

  /** Yields `afterTokens` tokens, then waits for the abort (a worker that stops mid-answer). */
  private async *hang(step: { afterTokens?: number }, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    for (let index = 0; index < (step.afterTokens ?? 0); index++)
      yield { type: "token", index, text: "slow" };
    await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
  }

  private async *run(
    step: Step,
    req: GenerationRequest,
    signal: AbortSignal,
  ): AsyncIterable<GenerationEvent> {
    if (step.kind === "hang") {
      yield* this.hang(step, signal);
      return;
    }
    if (req.kind === "embedding") {
      if (step.kind === "fail") throw step.error();
      yield {
        type: "embedding",
        vectors: (req.inputs ?? []).map(() => EMBEDDING),
        usage: { promptTokens: 3, completionTokens: 0 },
      };
      return;
    }
    const tokens =
      step.kind === "ok" ? (step.tokens ?? ["Hello", " world"]) : ["partial", " answer", " more"];
    for (const [index, text] of tokens.entries()) {
      if (step.kind === "fail" && index === (step.afterTokens ?? 0)) throw step.error();
      const ms = step.kind === "ok" ? (step.tokenMs ?? 0) : 0;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      signal.throwIfAborted();
      yield { type: "token", index, text };
    }
    if (step.kind === "fail") throw step.error();
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 5, completionTokens: tokens.length } };
  }
}
