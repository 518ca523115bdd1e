/**
 * Request bodies the API accepts, as zod schemas. Unknown fields are allowed (OpenAI clients
 * send many we ignore); the fields we use are checked and a failure names the field.
 */
import { z } from "zod";
import { invalidRequest, type ApiError } from "./errors.js";

const maxTokens = z.number().int().positive().max(1_000_000);
/** Ollama keep_alive: seconds as a number, or a duration "5m", "30s", "-1". */
const keepAlive = z.union([z.number(), z.string().regex(/^-?\d+(ms|s|m|h)?$/)]);

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const message = z.looseObject({
  role: z.enum(["system", "user", "assistant", "tool", "developer", "function"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  max_tokens: maxTokens.nullable().optional(),
  max_completion_tokens: maxTokens.nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptions,
  n: z.literal(1).nullable().optional(),
  keep_alive: keepAlive.optional(),
});

export const completionRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1)]),
  max_tokens: maxTokens.nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptions,
  n: z.literal(1).nullable().optional(),
  keep_alive: keepAlive.optional(),
});

export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  keep_alive: keepAlive.optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

const ROLES: ReadonlySet<unknown> = new Set(message.shape.role.options);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** undefined, null, or an integer in 1..1,000,000: what `maxTokens.nullable().optional()` accepts. */
const okMaxTokens = (v: unknown): boolean =>
  v === undefined || v === null || (Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1_000_000);

/**
 * The usual chat body checked by hand: string model, messages of a known role with string or
 * null content, and no field in a shape this check does not know (content parts, stream
 * options, keep_alive): then it is what chatRequestSchema would accept, returned as it is.
 * Anything else is undefined and goes to zod, which accepts or names the offending field as
 * before. zod's parse of this small body was a few µs of every request (profiled); a test
 * holds this check to never accept what the schema refuses.
 */
export function usualChatRequest(body: unknown): ChatRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  const { model } = body;
  if (typeof model !== "string" || model.length === 0) return undefined;
  return usualMessages(body.messages) && usualOptions(body) ? (body as ChatRequest) : undefined;
}

/** A non-empty array of messages of a known role with string, null or no content. */
function usualMessages(messages: unknown): boolean {
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages as unknown[]) {
    if (!isPlainObject(m) || !ROLES.has(m.role)) return false;
    const c = m.content;
    if (c !== undefined && c !== null && typeof c !== "string") return false;
  }
  return true;
}

/** The other fields the schema checks, each absent or of its plain form. */
function usualOptions(body: Record<string, unknown>): boolean {
  const { stream, n } = body;
  return (
    okMaxTokens(body.max_tokens) &&
    okMaxTokens(body.max_completion_tokens) &&
    (stream === undefined || stream === null || typeof stream === "boolean") &&
    (n === undefined || n === null || n === 1) &&
    (body.stream_options === undefined || body.stream_options === null) &&
    body.keep_alive === undefined
  );
}
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

/** Parses `body` or throws a 400 ApiError naming the first offending field (all are listed). */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalidRequest("the request body must be a JSON object", null);
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw validationError(result.error);
}

function validationError(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join("."), message: describe(i) }));
  const first = issues[0] ?? { path: "", message: "invalid request" };
  const text = issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ");
  return invalidRequest(text, first.path || null);
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return `required field is missing`;
  return issue.message;
}

/** Ollama keep_alive to ms: numbers are seconds; "0" unloads; negative pins. */
export function keepAliveMs(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value * 1000;
  const m = /^(-?\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  return n * factor;
}

/** Chat messages flattened to one prompt (role-tagged lines), as the worker expects. */
export function flattenMessages(messages: ChatRequest["messages"]): string {
  return messages
    .map((m) => {
      const c = m.content;
      const text = typeof c === "string" ? c : Array.isArray(c) ? c.map((p) => p.text ?? "").join("") : "";
      return `${m.role}: ${text}`;
    })
    .join("\n");
}

export function promptText(prompt: CompletionRequest["prompt"]): string {
  if (typeof prompt === "string") return prompt;
  return prompt.map(String).join(prompt.every((p) => typeof p === "number") ? " " : "\n");
}

export function embeddingInputs(input: EmbeddingRequest["input"]): string[] {
  if (typeof input === "string") return [input];
  if (input.every((x) => typeof x === "string")) return input;
  if (input.every((x) => typeof x === "number")) return [input.join(" ")];
  return input.map((x) => x.join(" "));
}
