/**
 * The seam between the API process and whatever produces tokens. The API's policies
 * (timeout, retry, breaker, bulkhead, fallback) wrap calls to a ModelBackend; the production
 * implementation is the spool-IPC client that talks to the supervised worker process
 * (reference-service/ipc/), and fallbacks are ModelBackends too (cache, CPU model, static).
 */
export type RequestKind = "chat" | "completion" | "embedding";

export interface GenerationRequest {
  readonly id: string;
  readonly kind: RequestKind;
  readonly model: string;
  /** Chat messages flattened to one prompt, or the completion prompt, or embedding inputs. */
  readonly prompt: string;
  readonly inputs?: readonly string[];
  readonly maxTokens: number;
  readonly stream: boolean;
  /** Ollama-style keep-alive: ms to keep the model loaded after this request; 0 unloads; <0 pins. */
  readonly keepAliveMs?: number;
  /** Absolute deadline (epoch ms) after which the worker should stop and the API gives up. */
  readonly deadlineAtMs: number;
}

export type FinishReason = "stop" | "length";

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type GenerationEvent =
  | { readonly type: "token"; readonly index: number; readonly text: string }
  | { readonly type: "done"; readonly finishReason: FinishReason; readonly usage: Usage }
  | { readonly type: "embedding"; readonly vectors: readonly (readonly number[])[]; readonly usage: Usage };

/**
 * Produces the events of one request. Failures are thrown as BackendError subclasses
 * (reference-service/backend-errors.ts) so the policies can tell transient from permanent.
 * Aborting `signal` must cancel the generation in the worker and free its slot and memory.
 */
export interface ModelBackend {
  readonly name: string;
  generate(request: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent>;
}
