/**
 * One call in flight from the API to the worker: puts response parts back in order, queues
 * their events for the consumer, and ends with the first error (later events are dropped).
 */
import type { ResponseEvent } from "./protocol.js";

const TERMINAL = new Set<ResponseEvent["type"]>(["done", "embedding", "error", "ack"]);
const MAX_BUFFERED_PARTS = 256;

export type DeliverResult = "ok" | "duplicate" | "overflow";

export class PendingCall {
  workerPid: number | undefined;
  acceptedAtMs: number | undefined;
  /** Set while a later part is buffered and an earlier one has not arrived. */
  gapSinceMs: number | undefined;
  /** Set while the worker's heartbeat no longer lists this call but its last event is missing. */
  missingSinceMs: number | undefined;
  /** The request frame's file name, to check whether it still waits in the spool. */
  requestFile: string | undefined;
  private nextPart = 0;
  private readonly buffered = new Map<number, ResponseEvent[]>();
  private readonly queue: ResponseEvent[] = [];
  private error: Error | undefined;
  private terminal = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly wireId: string,
    /** Whether the worker's engine tracks it (generate) or not (load/unload). */
    readonly tracked: boolean,
  ) {}

  /** A terminal event arrived or the call failed: nothing more is expected. */
  get settled(): boolean {
    return this.terminal || this.error !== undefined;
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  deliver(part: number, events: readonly ResponseEvent[], nowMs: number): DeliverResult {
    if (part < this.nextPart || this.buffered.has(part)) return "duplicate";
    if (this.buffered.size >= MAX_BUFFERED_PARTS) return "overflow";
    this.buffered.set(part, [...events]);
    for (let next = this.buffered.get(this.nextPart); next; next = this.buffered.get(this.nextPart)) {
      this.buffered.delete(this.nextPart++);
      for (const ev of next) this.accept(ev, nowMs);
    }
    this.gapSinceMs = this.buffered.size > 0 ? (this.gapSinceMs ?? nowMs) : undefined;
    this.missingSinceMs = undefined;
    this.wake?.();
    return "ok";
  }

  private accept(ev: ResponseEvent, nowMs: number): void {
    if (this.settled) return;
    if (ev.type === "accepted") {
      this.workerPid = ev.workerPid;
      this.acceptedAtMs = nowMs;
      return;
    }
    if (TERMINAL.has(ev.type)) this.terminal = true;
    this.queue.push(ev);
  }

  /**
   * Ends the call with `err` unless it already ended. The consumer sees it after the events
   * already queued, or at once with `immediate` (the caller aborted: it wants nothing more).
   */
  fail(err: Error, immediate = false): void {
    if (this.settled) return;
    this.error = err;
    if (immediate) this.queue.length = 0;
    this.wake?.();
  }

  /** The next event; throws the failure once the queue is empty. */
  async next(): Promise<ResponseEvent> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev) return ev;
      if (this.error) throw this.error;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
