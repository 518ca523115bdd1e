import { ROUTES } from "../targets/protocol.js";

/**
 * Request templates of a load mix. The shapes match the scenario's `load.mix` entries after
 * parsing (harness/scenario/schema.ts), with defaults optional here so tests and benchmarks
 * can write them by hand. `http` is for targets that are not OpenAI-compatible.
 */
interface TemplateBase {
  readonly name?: string;
  readonly weight?: number;
}

export interface ChatTemplate extends TemplateBase {
  readonly kind: "chat";
  readonly stream?: boolean;
  readonly model?: string;
  readonly prompt?: string;
  readonly maxTokens?: number;
}

export interface CompletionTemplate extends TemplateBase {
  readonly kind: "completion";
  readonly stream?: boolean;
  readonly model?: string;
  readonly prompt?: string;
  readonly maxTokens?: number;
}

export interface EmbeddingTemplate extends TemplateBase {
  readonly kind: "embedding";
  readonly model?: string;
  readonly input?: string;
}

export interface HttpTemplate extends TemplateBase {
  readonly kind: "http";
  readonly method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD";
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Statuses that count as a good answer. Absent: any 2xx. Present: exactly these; other
   * statuses are then classified as usual (429/503 shed, anything else error).
   */
  readonly expectStatus?: readonly number[];
}

export type RequestTemplate = ChatTemplate | CompletionTemplate | EmbeddingTemplate | HttpTemplate;

/** A template turned into bytes once, so sending allocates nothing per request but the call. */
export interface PreparedRequest {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** Server-sent events expected: the stream is checked for [DONE], finish_reason and errors. */
  readonly stream: boolean;
  readonly expectStatus: ReadonlySet<number> | null;
}

/** Model name sent when a template names none (OpenAI-compatible servers require one). */
export const DEFAULT_MODEL = "default";

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" } as const;
const SSE_HEADERS = { "content-type": "application/json", accept: "text/event-stream" } as const;

export function prepareRequest(t: RequestTemplate, defaultModel: string = DEFAULT_MODEL): PreparedRequest {
  switch (t.kind) {
    case "chat":
      return generation(t, defaultModel, "chat", ROUTES.chat, [
        { role: "user", content: t.prompt ?? "Say hello." },
      ]);
    case "completion":
      return generation(t, defaultModel, "completion", ROUTES.completions, t.prompt ?? "Once upon a time");
    case "embedding": {
      const body = { model: t.model ?? defaultModel, input: t.input ?? "faultline" };
      return json(t.name ?? "embedding", ROUTES.embeddings, body, false);
    }
    case "http":
      return http(t);
    default: {
      const never: never = t;
      return never;
    }
  }
}

function generation(
  t: ChatTemplate | CompletionTemplate,
  defaultModel: string,
  kind: string,
  path: string,
  input: unknown,
): PreparedRequest {
  const stream = t.stream ?? false;
  const body = {
    model: t.model ?? defaultModel,
    [t.kind === "chat" ? "messages" : "prompt"]: input,
    max_tokens: t.maxTokens ?? 16,
    stream,
  };
  return json(t.name ?? (stream ? `${kind}-stream` : kind), path, body, stream);
}

function http(t: HttpTemplate): PreparedRequest {
  const method = t.method ?? "GET";
  return {
    label: t.name ?? `${method} ${t.path}`,
    method,
    path: t.path,
    headers: { ...(t.headers ?? {}) },
    body: t.body,
    stream: false,
    expectStatus: t.expectStatus ? new Set(t.expectStatus) : null,
  };
}

function json(label: string, path: string, body: object, stream: boolean): PreparedRequest {
  return {
    label,
    method: "POST",
    path,
    headers: stream ? SSE_HEADERS : JSON_HEADERS,
    body: JSON.stringify(body),
    stream,
    expectStatus: null,
  };
}
