import type { Client } from "undici";
import type { Outcome } from "../../common/outcome.js";
import { classifyAnswer, classifyFailure } from "./classify.js";
import type { Routed } from "./connections.js";
import { jsonLevel, DEFAULT_MARKING, type LevelMarking } from "./levels.js";
import { rawHeaderValue } from "./raw-headers.js";
import { SseChecker } from "./sse.js";
import type { PreparedRequest } from "./templates.js";

/** What an attempt reports back to the run, once. */
export interface AttemptSink {
  now(): number;
  firstByte(row: number, t: number): void;
  settle(attempt: Attempt, end: number, outcome: Outcome): void;
}

/** Largest non-stream body read for a level field (answers are small; a huge one is not parsed). */
const MAX_LEVEL_BODY_BYTES = 1024 * 1024;

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
 *
 * It implements undici's handler callbacks with raw headers (onConnect, onHeaders, onData,
 * onComplete, onError), which undici 7 still calls directly and which its own request API
 * uses; its types mark them deprecated in favour of onRequestStart/onResponseStart/... But
 * undici serves those through an adapter that allocates a controller per request and parses
 * every header of the answer and of its trailers into objects of strings, per request, when
 * the outcome needs at most two headers: at saturation that was a tenth of the generator's
 * CPU. Should a later undici drop these callbacks, the same methods map one to one onto the
 * new ones (test/harness/load covers every outcome through a real server).
 */
export class Attempt implements Routed {
  status = 0;
  bytes = 0;
  done = false;
  /** Settled by its answer's end (not by an error, the deadline or a hang-up). */
  completed = false;
  /** The connection undici handed it to (see Connections). */
  client: Client | null = null;
  waitsInPool = false;
  /** Its place in the run's DeadlineQueue. */
  deadlineSlot = -1;
  /** Aborts the request in undici (given at onConnect). */
  private abort: ((err?: Error) => void) | null = null;
  private serviceLevel: string | undefined;
  /** The answer's Retry-After header as sent, for a client that honours it. */
  retryAfter: string | undefined;
  private sse: SseChecker | null = null;
  private sawData = false;
  /** A non-stream 2xx body kept for its level field (only when the marking reads the body). */
  private body: Buffer[] | null = null;

  constructor(
    readonly row: number,
    readonly deadlineAt: number,
    private readonly req: PreparedRequest,
    private readonly sink: AttemptSink,
    /** Hang up after this many server-sent events (client-disconnect fault); undefined reads all. */
    private readonly cutAfterEvents?: number,
    /** How the target marks an answer's service level (scenario target.levels). */
    private readonly marking: LevelMarking = DEFAULT_MARKING,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.done) abort(new DeadlineExceeded());
  }

  /** Status and raw headers (name, value, ...); returning true keeps the body flowing. */
  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (this.done) return true;
    this.status = statusCode;
    const header = this.marking.header;
    this.serviceLevel = header === null ? undefined : rawHeaderValue(rawHeaders, header);
    this.retryAfter = rawHeaderValue(rawHeaders, "retry-after");
    if (!this.req.stream) this.sink.firstByte(this.row, this.sink.now());
    const ok2xx = statusCode >= 200 && statusCode < 300;
    if (this.req.stream && ok2xx) this.sse = new SseChecker(this.marking);
    if (!this.req.stream && ok2xx && this.marking.readsBody) this.body = [];
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    // For streams the first byte is the first event: time to first token.
    if (!this.sawData && this.req.stream) this.sink.firstByte(this.row, this.sink.now());
    this.sawData = true;
    this.bytes += chunk.length;
    this.sse?.feed(chunk);
    // Bounded: a body past the cap is not inspected (no marker read: counted as full).
    if (this.body !== null) {
      if (this.bytes > MAX_LEVEL_BODY_BYTES) this.body = null;
      else this.body.push(chunk);
    }
    if (this.sse && this.cutAfterEvents !== undefined && this.sse.events >= this.cutAfterEvents)
      this.hangUp(this.sse);
    return true;
  }

  /**
   * The client leaves on purpose: the answer counts by what arrived before (healthy so far =
   * answered, at the service level it declared; an error event = error), and the connection
   * is closed so the service sees the client go.
   */
  private hangUp(sse: SseChecker): void {
    this.settle(this.sink.now(), this.outcome(sse.clean));
    this.abort?.(new ClientHungUp());
  }

  onComplete(): void {
    if (this.done) return;
    this.completed = true;
    this.sse?.end();
    this.settle(this.sink.now(), this.outcome(this.sse ? this.sse.complete : null));
  }

  onError(error: Error): void {
    if (this.done) return;
    this.settle(this.sink.now(), classifyFailure(error, false));
  }

  /** The deadline passed: a timeout ending at the deadline (when the client gave up). */
  expire(): void {
    if (this.done) return;
    this.settle(this.deadlineAt, "timeout");
    this.abort?.(new DeadlineExceeded());
  }

  /** The answer's class; `streamComplete` as for classifyResponse (null: not a stream). */
  private outcome(streamComplete: boolean | null): Outcome {
    return classifyAnswer(
      this.status,
      this.req.expectStatus,
      streamComplete,
      this.serviceLevel,
      this.sse?.serviceLevel,
      this.bodyLevel(),
      this.marking.belowFull,
    );
  }

  private bodyLevel(): string | undefined {
    if (this.body === null || this.marking.jsonPath === null) return undefined;
    try {
      return jsonLevel(JSON.parse(Buffer.concat(this.body).toString("utf8")), this.marking.jsonPath);
    } catch {
      return undefined; // not JSON: no marker in the body
    }
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
 *
 * A settled attempt leaves its slot at once (`settled`), not when the timer next fires: the
 * timer is armed for the head's deadline (often tens of seconds away), and holding every
 * answered attempt until then (with the undici request its controller keeps alive) made the
 * garbage collector copy each one into the old generation, the largest per-request cost of
 * the generator at saturation.
 */
export class DeadlineQueue {
  private items: (Attempt | null)[] = [];
  private head = 0;
  /** Sequence number of items[0]: slots are numbered from the first push, across compactions. */
  private base = 0;

  /** Adds an attempt; returns its slot, for `settled`. */
  push(a: Attempt): number {
    this.items.push(a);
    return this.base + this.items.length - 1;
  }

  /** The attempt in `slot` settled: it no longer needs its deadline. */
  settled(slot: number): void {
    const i = slot - this.base;
    if (i < this.head || i >= this.items.length) return;
    this.items[i] = null;
    if (i === this.head) this.skipSettled();
  }

  /** Expires every attempt due by `now`; returns the next pending deadline, if any. */
  expireDue(now: number): number | undefined {
    while (this.head < this.items.length) {
      const a = this.items[this.head];
      if (a === undefined) break;
      if (a !== null && !a.done && a.deadlineAt > now) break;
      this.items[this.head] = null;
      this.head++;
      a?.expire();
    }
    this.compact();
    return this.next();
  }

  next(): number | undefined {
    this.skipSettled();
    return this.items[this.head]?.deadlineAt;
  }

  private skipSettled(): void {
    while (this.head < this.items.length) {
      const a = this.items[this.head];
      if (a !== null && a !== undefined && !a.done) break;
      this.items[this.head] = null;
      this.head++;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.base += this.items.length;
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.base += this.head;
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
