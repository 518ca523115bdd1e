/**
 * The three generation routes. Each parses and validates its body, checks the model against the
 * catalog (404 before any work), then holds an admission slot for the whole answer while the
 * pipeline serves it into a buffered or SSE sink. A client that disconnects aborts the signal,
 * which cancels the backend call and frees the slot.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FinishReason, GenerationRequest, RequestKind, Usage } from "../backend.js";
import { RETRY_COUNT_HEADER } from "../contract.js";
import type { Served } from "../policies/pipeline.js";
import { readJson } from "./body.js";
import type { ApiContext } from "./context.js";
import { ApiError, toErrorResponse } from "./errors.js";
import { chatCompletion, embeddingList, textCompletion, type AnswerMeta } from "./openai-shapes.js";
import {
  chatRequestSchema,
  completionRequestSchema,
  embeddingInputs,
  embeddingRequestSchema,
  flattenMessages,
  keepAliveMs,
  promptText,
  usualChatRequest,
  validate,
} from "./schemas.js";
import { BufferSink, SseSink, levelHeaders } from "./sinks.js";
import { resumeStream, type ResumeOutcome } from "./stream-resume.js";

export interface Parsed {
  readonly request: GenerationRequest;
  readonly includeUsage: boolean;
  readonly encoding: "float" | "base64";
}

/** What a generation request ended as, for metrics. */
export interface GenerationResult {
  readonly served?: Served;
  readonly ttftMs?: number;
  /** For the engine's vllm:* metrics: the model, how the answer ended, its usage and duration. */
  readonly model?: string;
  readonly kind?: RequestKind;
  readonly finish?: FinishReason;
  readonly usage?: Usage;
  readonly e2eMs?: number;
}

function resultOf(
  ctx: ApiContext,
  kind: RequestKind,
  parsed: Parsed,
  started: number,
  served: Served,
  sink: { firstTokenAt: number | undefined; usage: Usage | undefined; finish: FinishReason | undefined },
): GenerationResult {
  return {
    served,
    model: parsed.request.model,
    kind,
    e2eMs: ctx.clock.now() - started,
    ...(sink.firstTokenAt !== undefined ? { ttftMs: sink.firstTokenAt - started } : {}),
    ...(sink.usage !== undefined ? { usage: sink.usage } : {}),
    ...(sink.finish !== undefined ? { finish: sink.finish } : {}),
  };
}

function base(ctx: ApiContext, kind: RequestKind, model: string, prompt: string, maxTokens: number) {
  return {
    id: randomUUID(),
    kind,
    model,
    prompt,
    maxTokens,
    deadlineAtMs: ctx.clock.now() + ctx.config.requestTimeoutMs,
  };
}

export function parseGeneration(ctx: ApiContext, kind: RequestKind, body: unknown): Parsed {
  switch (kind) {
    case "chat": {
      const b = usualChatRequest(body) ?? validate(chatRequestSchema, body);
      const max = b.max_completion_tokens ?? b.max_tokens ?? ctx.config.defaultMaxTokens;
      const request = {
        ...base(ctx, kind, b.model, flattenMessages(b.messages), max),
        stream: b.stream === true,
      };
      const keep = keepAliveMs(b.keep_alive);
      return {
        request: keep === undefined ? request : { ...request, keepAliveMs: keep },
        includeUsage: b.stream_options?.include_usage === true,
        encoding: "float",
      };
    }
    case "completion": {
      const b = validate(completionRequestSchema, body);
      const max = b.max_tokens ?? ctx.config.defaultMaxTokens;
      const request = { ...base(ctx, kind, b.model, promptText(b.prompt), max), stream: b.stream === true };
      const keep = keepAliveMs(b.keep_alive);
      return {
        request: keep === undefined ? request : { ...request, keepAliveMs: keep },
        includeUsage: b.stream_options?.include_usage === true,
        encoding: "float",
      };
    }
    case "embedding": {
      const b = validate(embeddingRequestSchema, body);
      const inputs = embeddingInputs(b.input);
      const request = { ...base(ctx, kind, b.model, inputs.join("\n"), 1), inputs, stream: false };
      return { request, includeUsage: false, encoding: b.encoding_format ?? "float" };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

export function checkModel(ctx: ApiContext, kind: RequestKind, model: string): void {
  const found = ctx.models.find((m) => m.id === model);
  const wanted = kind === "embedding" ? "embed" : "generate";
  if (found?.task === wanted || found?.task === "any") return;
  const names = ctx.models.filter((m) => m.task === wanted || m.task === "any").map((m) => m.id);
  const what = found
    ? `is not a${wanted === "embed" ? "n embedding" : " generation"} model`
    : "does not exist";
  throw new ApiError(
    404,
    "invalid_request_error",
    "model_not_found",
    `The model '${model}' ${what}; available: ${names.join(", ")}`,
    "model",
  );
}

/** Responses whose client went away before the answer was complete (outcome client_closed). */
export const clientGone = new WeakSet<ServerResponse>();

function clientSignal(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const ctrl = new AbortController();
  const gone = (why: string): void => {
    clientGone.add(res);
    ctrl.abort(new Error(why));
  };
  res.on("close", () => {
    if (!res.writableFinished) gone("client closed the connection");
  });
  req.on("aborted", () => gone("client aborted the request"));
  return ctrl.signal;
}

export async function handleGeneration(
  ctx: ApiContext,
  kind: RequestKind,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<GenerationResult> {
  const parsed = parseGeneration(ctx, kind, await readJson(req, ctx.config.bodyLimitBytes));
  checkModel(ctx, kind, parsed.request.model);
  refuseAtOnce(ctx, req);
  const signal = clientSignal(req, res);
  return ctx.admission.execute(
    (s) =>
      parsed.request.stream
        ? serveStream(ctx, kind, parsed, res, s)
        : serveBuffered(ctx, kind, parsed, res, s),
    signal,
    isRetry(req),
  );
}

/**
 * Fast fail: when the pipeline would refuse at once (open breaker, nothing to fall back to),
 * throws that refusal from within an admission slot taken and given back on the spot, which is
 * what admission and pipeline would do, without the client signal, sink and async frames of a
 * served request. The same answer, headers and metrics; everything else goes the normal way.
 * Nothing between here and the answer waits, so a client closing meanwhile cannot be missed.
 */
function refuseAtOnce(ctx: ApiContext, req: IncomingMessage): void {
  if (!ctx.pipeline.refusesAtOnce()) return;
  const ran = ctx.admission.runNow(() => ctx.pipeline.refuse(), isRetry(req));
  if (ran) throw ran.value;
}

function isRetry(req: IncomingMessage): boolean {
  const v = req.headers[RETRY_COUNT_HEADER];
  return typeof v === "string" && /^\d+$/.test(v.trim()) && Number(v) >= 1;
}

async function serveBuffered(
  ctx: ApiContext,
  kind: RequestKind,
  parsed: Parsed,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<GenerationResult> {
  const started = ctx.clock.now();
  const sink = new BufferSink(() => ctx.clock.now());
  const served = await ctx.pipeline.serve(parsed.request, sink, signal);
  const meta: AnswerMeta = {
    id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${parsed.request.id}`,
    created: Math.floor(started / 1000),
    model: parsed.request.model,
    served,
  };
  const usage = sink.usage ?? { promptTokens: 0, completionTokens: 0 };
  const finish = sink.finish ?? "stop";
  const body =
    kind === "chat"
      ? chatCompletion(meta, sink.text, finish, usage)
      : kind === "completion"
        ? textCompletion(meta, sink.text, finish, usage)
        : embeddingList(meta, sink.vectors ?? [], usage, parsed.encoding);
  res.writeHead(200, { "content-type": "application/json", ...levelHeaders(served) });
  res.end(JSON.stringify(body));
  return resultOf(ctx, kind, parsed, started, served, sink);
}

async function serveStream(
  ctx: ApiContext,
  kind: RequestKind,
  parsed: Parsed,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<GenerationResult> {
  const started = ctx.clock.now();
  const chunkKind = kind === "chat" ? "chat" : "completion";
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${parsed.request.id}`;
  const sink = new SseSink(
    res,
    chunkKind,
    { id, created: Math.floor(started / 1000), model: parsed.request.model },
    parsed.includeUsage,
    () => ctx.clock.now(),
  );
  const served = await streamWithResume(ctx, parsed.request, sink, signal);
  sink.end();
  return resultOf(ctx, kind, parsed, started, served, sink);
}

async function streamWithResume(
  ctx: ApiContext,
  req: GenerationRequest,
  sink: SseSink,
  signal: AbortSignal,
): Promise<Served> {
  try {
    return await ctx.pipeline.serve(req, sink, signal);
  } catch (e) {
    if (!sink.committed || signal.aborted) throw e;
    const deps = {
      pipeline: ctx.pipeline,
      now: () => ctx.clock.now(),
      observe: (o: ResumeOutcome) => ctx.streamResumed(o),
    };
    try {
      // Only the [DONE] is missing when the finish chunk already went out.
      return sink.finished ? (sink.served as Served) : await resumeStream(deps, req, sink, signal, e);
    } catch (last) {
      if (signal.aborted) throw last;
      // No continuation could finish it: the failure travels in-band, no [DONE].
      sink.fail(toErrorResponse(last, ctx.retryAfterMs()).body);
      throw new StreamFailedError(last);
    }
  }
}

/** A stream that failed after its headers; already answered in-band. */
export class StreamFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super("stream failed after the headers were sent");
    this.name = "StreamFailedError";
  }
}
