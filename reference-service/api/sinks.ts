/**
 * Where the pipeline's events go. BufferSink keeps a whole answer (plain JSON responses; never
 * committed, so retries and fallbacks stay possible to the end). SseSink writes OpenAI's SSE
 * as events arrive: headers and the role chunk at the first event (so a fallback's service
 * level can still be put in the headers), `data: [DONE]` only after a finished answer, and a
 * failure after the headers as one in-band error event with no [DONE]. A stream continuation
 * (stream-resume.ts) keeps writing into the same SseSink: the service level may change then, and
 * each chunk carries the level of the backend that produced it (headers are gone by then).
 */
import type { ServerResponse } from "node:http";
import type { FinishReason, GenerationEvent, Usage } from "../backend.js";
import { FALLBACK_HEADER, SERVICE_LEVEL_HEADER } from "../contract.js";
import type { AnswerSink, Served } from "../policies/pipeline.js";
import { streamChunk, usageChunk, type AnswerMeta, type ChunkKind } from "./openai-shapes.js";

export function levelHeaders(served: Served): Record<string, string> {
  if (served.level === "full") return {};
  return { [SERVICE_LEVEL_HEADER]: served.level, [FALLBACK_HEADER]: served.backend };
}

export class BufferSink implements AnswerSink {
  readonly committed = false;
  text = "";
  finish: FinishReason | undefined;
  usage: Usage | undefined;
  vectors: readonly (readonly number[])[] | undefined;
  served: Served | undefined;
  firstTokenAt: number | undefined;

  constructor(private readonly now: () => number) {}

  reset(): void {
    this.text = "";
    this.finish = undefined;
    this.usage = undefined;
    this.vectors = undefined;
    this.firstTokenAt = undefined;
  }

  push(event: GenerationEvent, served: Served): void {
    this.served = served;
    switch (event.type) {
      case "token":
        this.firstTokenAt ??= this.now();
        this.text += event.text;
        return;
      case "done":
        this.finish = event.finishReason;
        this.usage = event.usage;
        return;
      case "embedding":
        this.vectors = event.vectors;
        this.usage = event.usage;
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }
}

export class SseSink implements AnswerSink {
  private meta: AnswerMeta | undefined;
  finished = false;
  usage: Usage | undefined;
  finish: FinishReason | undefined;
  firstTokenAt: number | undefined;
  /** Content tokens and their text written so far, for a continuation to carry on from. */
  tokensSent = 0;
  textSent = "";

  constructor(
    private readonly res: ServerResponse,
    private readonly kind: ChunkKind,
    private readonly base: Omit<AnswerMeta, "served">,
    private readonly includeUsage: boolean,
    private readonly now: () => number,
  ) {}

  get committed(): boolean {
    return this.res.headersSent;
  }

  get served(): Served | undefined {
    return this.meta?.served;
  }

  reset(): void {
    // Nothing to discard: before the first event nothing was written, after it we never reset.
  }

  async push(event: GenerationEvent, served: Served): Promise<void> {
    if (!this.meta) this.open(served);
    else if (this.meta.served !== served) this.meta = { ...this.meta, served };
    const meta = this.meta as AnswerMeta;
    switch (event.type) {
      case "token":
        this.firstTokenAt ??= this.now();
        this.tokensSent++;
        this.textSent += event.text;
        await this.write(streamChunk(this.kind, meta, event.text, null));
        return;
      case "done":
        this.usage = event.usage;
        this.finish = event.finishReason;
        await this.write(streamChunk(this.kind, meta, this.kind === "chat" ? {} : "", event.finishReason));
        if (this.includeUsage) await this.write(usageChunk(this.kind, meta, event.usage));
        this.finished = true;
        return;
      case "embedding":
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  /** Ends a finished stream with [DONE]. */
  end(): void {
    this.res.end("data: [DONE]\n\n");
  }

  /** Ends a failed stream with one error event and no [DONE]. */
  fail(error: unknown): void {
    if (!this.res.writableEnded) this.res.end(`data: ${JSON.stringify(error)}\n\n`);
  }

  private open(served: Served): void {
    this.meta = { ...this.base, served };
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...levelHeaders(served),
    });
    if (this.kind === "chat")
      this.res.write(sse(streamChunk("chat", this.meta, { role: "assistant", content: "" }, null)));
  }

  private async write(obj: unknown): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.res.write(sse(obj))) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.once("drain", done);
      this.res.once("close", done);
    });
  }
}

const sse = (obj: unknown): string => `data: ${JSON.stringify(obj)}\n\n`;
