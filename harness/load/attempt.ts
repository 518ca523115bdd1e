import type { Dispatcher } from "undici";
import type { Outcome } from "../../common/outcome.js";
import { SERVICE_LEVEL_HEADER } from "../../reference-service/contract.js";
import { classifyFailure, classifyResponse } from "./classify.js";
import { SseChecker } from "./sse.js";
import type { PreparedRequest } from "./templates.js";

/** What an attempt reports back to the run, once. */
export interface AttemptSink {
  now(): number;
  firstByte(row: number, t: number): void;
  settle(attempt: Attempt, end: number, outcome: Outcome): void;
}

class DeadlineExceeded extends Error {
  constructor() {
    super("client deadline exceeded");
    this.name = "DeadlineExceeded";
  }
}

class ClientHungUp extends Error {
  constructor() {
    super("client hung up mid-stream (client-disconnect fault)");
    this.name = "ClientHungUp";
  }
}

/**
 * One request in flight, as an undici dispatch handler: callbacks instead of a body stream
 * and promises, which is what lets one process drive thousands of requests a second. It
 * settles exactly once: on the answer's end, on a transport error, or at its deadline
 * (`expire`), whichever comes first; later callbacks are ignored.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  status = 0;
  bytes = 0;
  done = false;
  private controller: Dispatcher.DispatchController | null = null;
  private serviceLevel: string | undefined;
  /** The answer's Retry-After header as sent, for a client that honours it. */
  retryAfter: string | undefined;
  private sse: SseChecker | null = null;
  private sawData = false;

  constructor(
    readonly row: number,
    readonly deadlineAt: number,
    private readonly req: PreparedRequest,
    private readonly sink: AttemptSink,
    /** Hang up after this many server-sent events (client-disconnect fault); undefined reads all. */
    private readonly cutAfterEvents?: number,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.done) controller.abort(new DeadlineExceeded());
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.done) return;
    this.status = statusCode;
    const level = headers[SERVICE_LEVEL_HEADER];
    this.serviceLevel = Array.isArray(level) ? level[0] : level;
    const retryAfter = headers["retry-after"];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    if (!this.req.stream) this.sink.firstByte(this.row, this.sink.now());
    if (this.req.stream && statusCode >= 200 && statusCode < 300) this.sse = new SseChecker();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    // For streams the first byte is the first event: time to first token.
    if (!this.sawData && this.req.stream) this.sink.firstByte(this.row, this.sink.now());
    this.sawData = true;
    this.bytes += chunk.length;
    this.sse?.feed(chunk);
    if (this.sse && this.cutAfterEvents !== undefined && this.sse.events >= this.cutAfterEvents)
      this.hangUp(this.sse);
  }

  /**
   * The client leaves on purpose: the answer counts by what arrived before (healthy so far =
   * answered, at the service level it declared; an error event = error), and the connection
   * is closed so the service sees the client go.
   */
  private hangUp(sse: SseChecker): void {
    this.settle(this.sink.now(), this.outcome(sse.clean));
    this.controller?.abort(new ClientHungUp());
  }

  onResponseEnd(): void {
    if (this.done) return;
    this.sse?.end();
    this.settle(this.sink.now(), this.outcome(this.sse ? this.sse.complete : null));
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    if (this.done) return;
    this.settle(this.sink.now(), classifyFailure(error, false));
  }

  /** The deadline passed: a timeout ending at the deadline (when the client gave up). */
  expire(): void {
    if (this.done) return;
    this.settle(this.deadlineAt, "timeout");
    this.controller?.abort(new DeadlineExceeded());
  }

  /** The answer's class; `streamComplete` as for classifyResponse (null: not a stream). */
  private outcome(streamComplete: boolean | null): Outcome {
    return classifyResponse({
      status: this.status,
      serviceLevel: this.serviceLevel,
      expectStatus: this.req.expectStatus,
      streamComplete,
      streamServiceLevel: this.sse?.serviceLevel,
    });
  }

  private settle(end: number, outcome: Outcome): void {
    this.done = true;
    this.sink.settle(this, end, outcome);
  }
}

/**
 * Deadlines of attempts in flight, with one timer for all. Requests are sent in intended
 * order and every deadline is intended + the same budget, so deadlines arrive already sorted:
 * a FIFO whose head is always the next to expire.
 */
export class DeadlineQueue {
  private items: Attempt[] = [];
  private head = 0;

  push(a: Attempt): void {
    this.items.push(a);
  }

  /** Expires every attempt due by `now`; returns the next pending deadline, if any. */
  expireDue(now: number): number | undefined {
    while (this.head < this.items.length) {
      const a = this.items[this.head];
      if (a === undefined) break;
      if (!a.done && a.deadlineAt > now) break;
      this.head++;
      a.expire();
    }
    this.compact();
    return this.next();
  }

  next(): number | undefined {
    while (this.head < this.items.length && this.items[this.head]?.done) this.head++;
    return this.items[this.head]?.deadlineAt;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
