/** A fallback level that cannot answer this request (cache miss, no static embedding): try the next. */
export class FallbackMissError extends Error {
  constructor(
    readonly level: string,
    message: string,
  ) {
    super(message);
    this.name = "FallbackMissError";
  }
}

export const isFallbackMissError = (e: unknown): e is FallbackMissError => e instanceof FallbackMissError;
