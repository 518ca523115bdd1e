import type { Dispatcher } from "undici";
import { RETRY_COUNT_HEADER } from "../targets/protocol.js";
import { prepareRequest, type PreparedRequest, type RequestTemplate } from "./templates.js";

/**
 * Each template of the mix prepared once, as a first attempt and as a retry (marked the way
 * OpenAI's SDKs mark theirs), with what undici is handed for it: a request looks its template
 * up here and allocates nothing.
 */
export class DispatchTable {
  readonly first: readonly PreparedRequest[];
  readonly retry: readonly PreparedRequest[];
  private readonly dispatchFirst: readonly Dispatcher.DispatchOptions[];
  private readonly dispatchRetry: readonly Dispatcher.DispatchOptions[];

  /** @param prefix the base URL's path, kept in front of every route */
  constructor(
    mix: readonly RequestTemplate[],
    model: string | undefined,
    readonly prefix: string,
  ) {
    this.first = mix.map((t) => prepareRequest(t, model));
    this.retry = this.first.map((p) => ({
      ...p,
      headers: { ...p.headers, [RETRY_COUNT_HEADER]: "1" },
    }));
    this.dispatchFirst = this.first.map((p) => dispatchOptions(prefix, p));
    this.dispatchRetry = this.retry.map((p) => dispatchOptions(prefix, p));
  }

  request(template: number, retry: boolean): PreparedRequest {
    return (retry ? this.retry : this.first)[template];
  }

  dispatch(template: number, retry: boolean): Dispatcher.DispatchOptions {
    return (retry ? this.dispatchRetry : this.dispatchFirst)[template];
  }
}

/**
 * The options undici gets for one template, shared by every request of it (undici reads them
 * and does not keep or change them): the path with the base URL's prefix, headers as the flat
 * name/value list undici stores anyway, and the body encoded once (undici would otherwise copy
 * a string body into a new Buffer per request; the bytes sent are the same UTF-8).
 *
 * `blocking: false`: undici's default (true) holds further pipelined requests on the
 * connection until this one's headers are in, and pays for an extra pass of its dispatch loop
 * per answer to release them. The generator's connections never pipeline (pipelining 1: the
 * next request goes out only after the answer's end), so there is nothing to hold.
 */
function dispatchOptions(prefix: string, req: PreparedRequest): Dispatcher.DispatchOptions {
  return {
    path: prefix + req.path,
    method: req.method,
    headers: Object.entries(req.headers).flat(),
    body: req.body === undefined ? undefined : Buffer.from(req.body, "utf8"),
    blocking: false,
  };
}
