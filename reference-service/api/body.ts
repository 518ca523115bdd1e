/**
 * Reads a request body up to a byte limit and parses it as JSON. Too large = 413 (the rest is
 * not read, the connection is closed after the answer), not JSON = 400; never a 500.
 */
import type { IncomingMessage } from "node:http";
import { MAX_JSON_DEPTH, excessNesting } from "../../common/json-depth.js";
import { ApiError, invalidRequest } from "./errors.js";

export const payloadTooLarge = (limit: number): ApiError =>
  new ApiError(413, "invalid_request_error", "payload_too_large", `request body exceeds ${limit} bytes`);

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
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
