/**
 * Forward mode (`--upstream URL`): a ModelBackend that sends each request to a real
 * OpenAI-compatible server and maps its answers back to GenerationEvents, so the same
 * policies (retry, breaker, fallback, drain) wrap a real GPU server. Minimal by design:
 * - chat is forwarded as one user message holding the flattened prompt (the seam carries a
 *   prompt, not the message list), always streamed so tokens and cancellation flow through;
 * - upstream errors in any of the common shapes (OpenAI, old vLLM, TGI, Ollama, llama.cpp,
 *   KServe) become BackendErrors: 404 model not found, 408/504 timeout, anything else
 *   (429, 5xx, 4xx, connection failures, a stream cut without [DONE]) worker unavailable.
 */
import type { GenerationEvent, GenerationRequest, ModelBackend, Usage } from "../backend.js";
import {
  BackendTimeoutError,
  ModelNotFoundError,
  WorkerUnavailableError,
  isBackendError,
  type BackendError,
} from "../backend-errors.js";

interface UpstreamChunk {
  readonly choices?: readonly {
    readonly delta?: { readonly content?: string | null };
    readonly text?: string;
    readonly finish_reason?: string | null;
  }[];
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number } | null;
  readonly error?: unknown;
}

/** The message of an upstream error body in any of the shapes servers use. */
export function upstreamErrorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof j.error === "string") return j.error;
    if (j.error && typeof j.error === "object" && "message" in j.error) return String(j.error.message);
    if (typeof j.message === "string") return j.message;
  } catch {
    // not JSON: use the text
  }
  return body.slice(0, 200) || "no body";
}

export function upstreamError(status: number, message: string): BackendError {
  const text = `upstream answered ${status}: ${message}`;
  if (status === 404) return new ModelNotFoundError(text);
  if (status === 408 || status === 504) return new BackendTimeoutError(text);
  return new WorkerUnavailableError(text);
}

async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      if (data) yield data;
    }
  }
}

export class UpstreamBackend implements ModelBackend {
  readonly name = "upstream";

  private constructor(
    readonly baseUrl: string,
    readonly models: readonly string[],
  ) {}

  /** Reads the upstream's model list; fails with a clear message when it cannot be reached. */
  static async connect(url: string): Promise<UpstreamBackend> {
    const base = url.replace(/\/+$/, "").replace(/\/v1$/, "");
    const res = await fetch(`${base}/v1/models`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`upstream ${base}/v1/models answered ${res.status}`);
    const list = (await res.json()) as { data?: { id?: unknown }[] };
    return new UpstreamBackend(
      base,
      (list.data ?? []).map((m) => String(m.id)),
    );
  }

  async *generate(req: GenerationRequest, signal: AbortSignal): AsyncIterable<GenerationEvent> {
    try {
      yield* this.generateUnguarded(req, signal);
    } catch (e) {
      // A connection reset or close while the body is read surfaces from fetch as a plain
      // TypeError ("terminated"); it is the upstream going away, so it must stay retryable and
      // let the API continue a started stream instead of failing it.
      if (isBackendError(e) || signal.aborted) throw e;
      throw new WorkerUnavailableError(`upstream connection lost: ${(e as Error).message}`);
    }
  }

  private async *generateUnguarded(
    req: GenerationRequest,
    signal: AbortSignal,
  ): AsyncIterable<GenerationEvent> {
    const res = await this.post(req, signal);
    if (req.kind === "embedding") {
      const j = (await res.json()) as { data: { embedding: number[] }[]; usage?: { prompt_tokens?: number } };
      yield {
        type: "embedding",
        vectors: j.data.map((d) => d.embedding),
        usage: { promptTokens: j.usage?.prompt_tokens ?? 0, completionTokens: 0 },
      };
      return;
    }
    if (!res.body) throw new WorkerUnavailableError("upstream sent no body");
    yield* this.stream(res.body);
  }

  private async post(req: GenerationRequest, signal: AbortSignal): Promise<Response> {
    const [path, body] =
      req.kind === "embedding"
        ? [
            "/v1/embeddings",
            { model: req.model, input: req.inputs ?? [req.prompt], encoding_format: "float" },
          ]
        : req.kind === "chat"
          ? [
              "/v1/chat/completions",
              {
                model: req.model,
                messages: [{ role: "user", content: req.prompt }],
                max_tokens: req.maxTokens,
                stream: true,
                stream_options: { include_usage: true },
              },
            ]
          : [
              "/v1/completions",
              {
                model: req.model,
                prompt: req.prompt,
                max_tokens: req.maxTokens,
                stream: true,
                stream_options: { include_usage: true },
              },
            ];
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal,
      });
    } catch (e) {
      signal.throwIfAborted();
      throw new WorkerUnavailableError(`upstream unreachable: ${(e as Error).message}`);
    }
    if (!res.ok) throw upstreamError(res.status, upstreamErrorMessage(await res.text()));
    return res;
  }

  private async *stream(body: ReadableStream<Uint8Array>): AsyncIterable<GenerationEvent> {
    const state: StreamState = { index: 0 };
    for await (const data of sseEvents(body)) {
      if (data === "[DONE]") {
        const usage = state.usage ?? { promptTokens: 0, completionTokens: state.index };
        yield { type: "done", finishReason: state.finish ?? "stop", usage };
        return;
      }
      const token = readChunk(data, state);
      if (token !== undefined) yield token;
    }
    throw new WorkerUnavailableError("upstream stream ended without [DONE]");
  }
}

interface StreamState {
  index: number;
  finish?: "stop" | "length";
  usage?: Usage;
}

/** One upstream chunk: its token (if any); finish reason and usage go into `state`. */
function readChunk(data: string, state: StreamState): GenerationEvent | undefined {
  const chunk = JSON.parse(data) as UpstreamChunk;
  if (chunk.error) throw new WorkerUnavailableError(`upstream stream error: ${upstreamErrorMessage(data)}`);
  const choice = chunk.choices?.[0];
  if (choice?.finish_reason) state.finish = choice.finish_reason === "length" ? "length" : "stop";
  if (chunk.usage)
    state.usage = {
      promptTokens: chunk.usage.prompt_tokens ?? 0,
      completionTokens: chunk.usage.completion_tokens ?? state.index,
    };
  const text = choice?.delta?.content ?? choice?.text ?? "";
  return text ? { type: "token", index: state.index++, text } : undefined;
}
