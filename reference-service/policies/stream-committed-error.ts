/**
 * A failure after bytes of the answer reached the client. It must not be retried or answered
 * by a fallback (the client already holds part of an answer); it travels as an in-band error.
 * The breaker still judges the original cause.
 */
export class StreamCommittedError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "StreamCommittedError";
  }
}

export const isStreamCommittedError = (e: unknown): e is StreamCommittedError =>
  e instanceof StreamCommittedError;

export const causeOf = (e: unknown): unknown => (isStreamCommittedError(e) ? e.cause : e);
