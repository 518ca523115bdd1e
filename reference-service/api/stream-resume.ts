/**
 * Stream continuation. A stream whose backend fails after bytes reached the client (worker
 * killed, frames lost or corrupt, a backend timeout with time left) would otherwise end with an
 * in-band error: an accepted request lost. Instead the API re-issues the rest through the same
 * pipeline (retry -> breaker -> fallback chain), like vLLM's recompute on preemption: the
 * continuation's prompt is the original prompt plus the text already sent, and max_tokens is
 * what is left. Its tokens go on in the same SSE response; a fallback marks its chunks in-band.
 */
import { isBackendError } from "../backend-errors.js";
import type { GenerationEvent, GenerationRequest } from "../backend.js";
import type { AnswerSink, Served, ServingPipeline } from "../policies/pipeline.js";
import { causeOf } from "../policies/stream-committed-error.js";
import { countTokens } from "../policies/text-tokens.js";
import type { SseSink } from "./sinks.js";

/** faultline_stream_resumes_total{outcome}: one per continuation tried, or one per stream given up. */
export const RESUME_OUTCOMES = ["completed", "failed", "not_attempted"] as const;
export type ResumeOutcome = (typeof RESUME_OUTCOMES)[number];

export const MAX_STREAM_RESUMES = 2;
/**
 * Below this much time left a continuation is not tried: it could not produce a token, and a
 * timer may fire a millisecond before the wall clock says the deadline passed.
 */
export const MIN_RESUME_MS = 10;

export interface ResumeDeps {
  readonly pipeline: ServingPipeline;
  readonly now: () => number;
  readonly observe: (outcome: ResumeOutcome) => void;
  readonly maxResumes?: number;
}

/**
 * Writes one continuation into the stream. Uncommitted until it wrote a token of its own, so
 * the pipeline may still retry it or hand it to a fallback; usage counts the whole answer.
 */
class ContinuationSink implements AnswerSink {
  private tokens = 0;

  constructor(
    private readonly stream: SseSink,
    private readonly before: number,
  ) {}

  get committed(): boolean {
    return this.tokens > 0;
  }

  reset(): void {
    // Nothing of this continuation reached the client before its first token.
  }

  push(event: GenerationEvent, served: Served): Promise<void> {
    if (event.type === "token") this.tokens++;
    if (event.type !== "done") return this.stream.push(event, served);
    // The continuation's prompt included the text already sent: that text is completion.
    const usage = {
      promptTokens: Math.max(1, event.usage.promptTokens - this.before),
      completionTokens: this.before + event.usage.completionTokens,
    };
    return this.stream.push({ ...event, usage }, served);
  }
}

/**
 * Whether a failure after the headers may be continued: any backend failure (the ones the
 * breaker counts), not a client mistake such as an unknown model. "Not retryable" only means
 * the same backend will fail again (a GPU out of memory); the continuation runs through the
 * whole pipeline, whose fallbacks are there for exactly that case.
 */
export function canResume(e: unknown): boolean {
  const cause = causeOf(e);
  return isBackendError(cause) && cause.countsForBreaker;
}

export function continuationRequest(req: GenerationRequest, sink: SseSink, n: number): GenerationRequest {
  return {
    ...req,
    // A fresh id: frames of the failed attempt may still be in the spool.
    id: `${req.id}-r${n}`,
    prompt: req.prompt + sink.textSent,
    maxTokens: req.maxTokens - sink.tokensSent,
  };
}

/**
 * Continues a stream that failed with `error` after its headers. Resolves with the level that
 * served the last part, or rethrows the last failure when no continuation could finish it.
 */
export async function resumeStream(
  deps: ResumeDeps,
  req: GenerationRequest,
  sink: SseSink,
  signal: AbortSignal,
  error: unknown,
): Promise<Served> {
  let last = error;
  const max = deps.maxResumes ?? MAX_STREAM_RESUMES;
  for (let n = 1; n <= max; n++) {
    const left = req.deadlineAtMs - deps.now();
    if (sink.finished || signal.aborted || left < MIN_RESUME_MS || !canResume(last)) break;
    const served = sink.served ?? { level: "full", backend: "worker" };
    if (req.maxTokens - sink.tokensSent <= 0) {
      // Every token was sent and only the finish was lost: finish it here.
      const usage = { promptTokens: countTokens(req.prompt), completionTokens: sink.tokensSent };
      await sink.push({ type: "done", finishReason: "length", usage }, served);
      deps.observe("completed");
      return served;
    }
    try {
      const next = continuationRequest(req, sink, n);
      const result = await deps.pipeline.serve(
        next,
        new ContinuationSink(sink, sink.tokensSent),
        signal,
        left,
      );
      deps.observe("completed");
      return result;
    } catch (e) {
      deps.observe("failed");
      last = e;
    }
  }
  if (last === error) deps.observe("not_attempted");
  throw last;
}
