/**
 * OpenAI response and stream-chunk shapes (as the official SDK parses them). A fallback answer
 * carries the `faultline` body field with its service level and the fallback that served it.
 */
import type { FinishReason, Usage } from "../backend.js";
import { SERVICE_LEVEL_BODY_FIELD } from "../contract.js";
import type { Served } from "../policies/pipeline.js";

export const SYSTEM_FINGERPRINT = "faultline-sim-1";

export interface AnswerMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly served: Served;
}

export function marker(served: Served): Record<string, unknown> {
  if (served.level === "full") return {};
  return { [SERVICE_LEVEL_BODY_FIELD]: { service_level: served.level, fallback: served.backend } };
}

const fingerprint = (served: Served): string =>
  served.level === "full" ? SYSTEM_FINGERPRINT : `${SYSTEM_FINGERPRINT}-${served.backend}`;

export function usageJson(u: Usage): Record<string, number> {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
  };
}

export function chatCompletion(meta: AnswerMeta, text: string, finish: FinishReason, usage: Usage) {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: fingerprint(meta.served),
    choices: [
      { index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: finish },
    ],
    usage: usageJson(usage),
    ...marker(meta.served),
  };
}

export function textCompletion(meta: AnswerMeta, text: string, finish: FinishReason, usage: Usage) {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: fingerprint(meta.served),
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    usage: usageJson(usage),
    ...marker(meta.served),
  };
}

export function embeddingList(
  meta: AnswerMeta,
  vectors: readonly (readonly number[])[],
  usage: Usage,
  format: "float" | "base64",
) {
  return {
    object: "list",
    model: meta.model,
    data: vectors.map((v, index) => ({
      object: "embedding",
      index,
      embedding: format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
    })),
    usage: { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens },
    ...marker(meta.served),
  };
}

export type ChunkKind = "chat" | "completion";

/** One stream chunk. `delta` is the chat delta or the completion text. */
export function streamChunk(
  kind: ChunkKind,
  meta: AnswerMeta,
  delta: { role?: "assistant"; content?: string } | string,
  finish: FinishReason | null,
) {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          delta: typeof delta === "string" ? { content: delta } : delta,
          logprobs: null,
          finish_reason: finish,
        }
      : {
          index: 0,
          text: typeof delta === "string" ? delta : (delta.content ?? ""),
          logprobs: null,
          finish_reason: finish,
        };
  return {
    id: meta.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: fingerprint(meta.served),
    choices: [choice],
    ...marker(meta.served),
  };
}

export function usageChunk(kind: ChunkKind, meta: AnswerMeta, usage: Usage) {
  return {
    id: meta.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: usageJson(usage),
    ...marker(meta.served),
  };
}
