import { GoJsonError } from "./go-json.js";

/**
 * An error with the HTTP status the real server gives it. Messages are the real server's,
 * word for word; `toApiError` is the one place that maps anything thrown to a status.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

export const proxyNotFound = (): ApiError => new ApiError("proxy not found", 404);
export const proxyAlreadyExists = (): ApiError => new ApiError("proxy already exists", 409);
export const invalidStream = (): ApiError =>
  new ApiError("stream was invalid, can be either upstream or downstream", 400);
export const invalidToxicType = (): ApiError => new ApiError("invalid toxic type", 400);
export const toxicAlreadyExists = (): ApiError => new ApiError("toxic already exists", 409);
export const toxicNotFound = (): ApiError => new ApiError("toxic not found", 404);
export const missingField = (what: string): ApiError => new ApiError(`missing required field: ${what}`, 400);
export const badRequestBody = (detail: string): ApiError => new ApiError(`bad request body: ${detail}`, 400);

/** Status and message for anything thrown: our ApiErrors as they are, Go JSON errors as 400, the rest 500. */
export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  if (error instanceof GoJsonError) return badRequestBody(error.message);
  return new ApiError(error instanceof Error ? error.message : String(error), 500);
}
