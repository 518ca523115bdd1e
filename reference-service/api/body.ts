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
 * The body as one Buffer. Read with plain listeners, not `for await`: the async iterator (and
 * stream.finished, tried first) put a promise, a 'readable' round and a dozen listeners on every
 * request, a visible share of a fast fail's CPU in a profile; inline arrows also escape the
 * function-naming helper tsx adds to each named closure. Same outcomes: 413 before reading when
 * the declared length is over, 413 and the stream destroyed (as leaving a `for await` early
 * does) when the bytes read go over, the stream's error, or a premature close, otherwise.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(payloadTooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      settled = true;
      req.destroy();
      reject(payloadTooLarge(limit));
    });
    req.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on("error", (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    });
    req.on("close", () => {
      if (settled) return;
      settled = true;
      reject(new Error("the client closed the connection before the request body was complete"));
    });
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
