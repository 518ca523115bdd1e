/**
 * Writes response events as frames, one request at a time in order. Events of a request sent
 * in the same turn of the event loop go out together in one frame (the write starts on
 * setImmediate), and while a frame is being written the next events are queued for the next
 * frame (part n+1). So a fast answer ("accepted" and "done" of a zero-latency model, emitted
 * in one turn) is one file instead of two, a fast token stream costs fewer files, and parts of
 * a request are renamed into place strictly in order.
 */
import type { Clock } from "../../common/clock.js";
import type { SpoolWriter } from "../ipc/spool.js";
import type { ResponseEvent, ResponsePayload } from "../ipc/protocol.js";

interface Stream {
  forgotten?: boolean;
  part: number;
  queue: ResponseEvent[];
  writing: boolean;
}

const TERMINAL = new Set<ResponseEvent["type"]>(["done", "embedding", "error", "ack"]);

export class ResponseWriter {
  private readonly streams = new Map<string, Stream>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly writer: SpoolWriter,
    private readonly clock: Clock,
    private readonly onWriteError: (wireId: string, err: unknown) => void,
  ) {}

  send(wireId: string, event: ResponseEvent): void {
    let s = this.streams.get(wireId);
    if (!s) {
      s = { part: 0, queue: [], writing: false };
      this.streams.set(wireId, s);
    }
    s.queue.push(event);
    if (!s.writing) {
      s.writing = true;
      this.pending++;
      setImmediate(() => void this.flush(wireId, s));
    }
  }

  /** Drops a cancelled request's unsent events and its state (no terminal event will come). */
  forget(wireId: string): void {
    const s = this.streams.get(wireId);
    if (!s) return;
    s.queue.length = 0;
    if (!s.writing) this.streams.delete(wireId);
    else s.forgotten = true;
  }

  /** Resolves once every queued event is on disk. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async flush(wireId: string, s: Stream): Promise<void> {
    while (s.queue.length > 0) {
      const events = s.queue.splice(0);
      const payload: ResponsePayload = { sentAtMs: this.clock.now(), part: s.part++, events };
      try {
        await this.writer.write(wireId, payload);
      } catch (err) {
        this.onWriteError(wireId, err); // the client's deadline or lost-frame check covers it
      }
      const finished = events.some((e) => TERMINAL.has(e.type)) || s.forgotten === true;
      if (finished && s.queue.length === 0) this.streams.delete(wireId);
    }
    if (s.forgotten === true) this.streams.delete(wireId); // forgotten before its first write
    s.writing = false;
    this.pending--;
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
