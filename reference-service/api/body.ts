/**
 * Reads a request body up to a byte limit and parses it as JSON. Too large = 413 (the rest is
 * not read, the connection is closed after the answer), not JSON = 400; never a 500.
 */
import type { IncomingMessage } from "node:http";
import { MAX_JSON_DEPTH, excessNesting } from "../../common/json-depth.js";
import { ApiError, invalidRequest } from "./errors.js";

export const payloadTooLarge = (limit: number): ApiError =>
  new ApiError(413, "invalid_request_error", "payload_too_large", `request body exceeds ${limit} bytes`);

/**
 * Listens for data/end instead of `for await`: the async iterator (its creation, end-of-stream
 * tracking and one promise per chunk) was a visible share of a small request's CPU in a profile
 * of the API, and a chat body is one chunk. Too large: stops reading and rejects; the answer
 * goes out with `connection: close`, which drops the unread rest.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(payloadTooLarge(limit));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(new Error("the request was closed before its body was read"));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      done();
      req.pause();
      reject(payloadTooLarge(limit));
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    // A client gone before the end of its body: the same failure `for await` reported.
    const onClose = (): void => {
      done();
      reject(new Error("the client closed the connection before the request body was complete"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) throw invalidRequest("the request body is empty; send a JSON object");
  return parseJson(body);
}

/** As readJson, but an empty body (an action with every default) is `undefined`, not a 400. */
export async function readOptionalJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  return body.length === 0 ? undefined : parseJson(body);
}

function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8");
  // Counted before parsing, so a deep body is refused cheaply instead of exhausting the stack.
  if (excessNesting(text, MAX_JSON_DEPTH) >= 0)
    throw invalidRequest(
      `the request body nests deeper than ${MAX_JSON_DEPTH} levels of arrays/objects; flatten it`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalidRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}
