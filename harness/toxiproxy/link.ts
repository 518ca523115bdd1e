import type { Socket } from "node:net";
import { Chan, INTERRUPTED } from "./chan.js";
import { closeSocket, setLingerZero } from "./sockets.js";
import { ToxicStub, type StubEnv } from "./stub.js";
import type { Direction, ToxicInstance } from "./toxic-instance.js";
import type { Chunk } from "./toxics/toxic.js";

/** Flushing a removed toxic's queue gives up on a chunk after this long, as the real link does. */
const FLUSH_MS = 5000;
const WRITE_BUFFER_BYTES = 256 * 1024;

export interface LinkTotals {
  readonly received: number;
  readonly sent: number;
}

/**
 * One direction of one connection: socket reader -> hidden noop stub -> one stub per toxic of
 * this direction -> socket writer. `chain()` is the proxy's live toxic list for the direction
 * (without the hidden noop); stub i runs chain()[i-1]. When the chain ends (end of input or a
 * toxic closing it) the writer fully closes the destination socket, which ends the other
 * direction too: like the real server, there is no TCP half-close through the proxy.
 */
export class ToxicLink {
  private readonly stubs: ToxicStub[] = [];
  private readonly input: Chan<Chunk>;
  private readonly output: Chan<Chunk>;
  private received = 0;
  private sent = 0;

  constructor(
    readonly direction: Direction,
    private readonly chain: () => readonly ToxicInstance[],
    private readonly env: StubEnv,
  ) {
    const toxics = chain();
    let last = new Chan<Chunk>();
    this.input = last;
    for (let i = 0; i <= toxics.length; i++) {
      const next = new Chan<Chunk>(toxics[i]?.definition.bufferSize ?? 0);
      this.stubs.push(new ToxicStub(last, next, env));
      last = next;
    }
    this.output = last;
  }

  /** Starts moving data; resolves when the link has ended and closed `dest`. */
  start(source: Socket, dest: Socket): Promise<LinkTotals> {
    this.read(source);
    const toxics = this.chain();
    this.stubs.forEach((stub, i) => {
      const toxic = i === 0 ? null : (toxics[i - 1] ?? null);
      if (toxic?.definition.newState) stub.state = toxic.definition.newState();
      if (toxic?.type === "reset_peer") {
        setLingerZero(source);
        setLingerZero(dest);
      }
      stub.run(toxic);
    });
    return this.write(dest);
  }

  async addToxic(toxic: ToxicInstance): Promise<void> {
    const i = this.stubs.length;
    const previous = this.stubs[i - 1];
    const feed = new Chan<Chunk>(toxic.definition.bufferSize);
    const stub = new ToxicStub(feed, previous.output, this.env);
    this.stubs.push(stub);
    if (await previous.interrupt()) {
      previous.output = feed;
      if (toxic.definition.newState) stub.state = toxic.definition.newState();
      stub.run(toxic);
      previous.run(this.toxicAt(i - 1));
    } else {
      // The link is closing: keep the new stub consistent with it.
      stub.output = feed;
      stub.close();
    }
  }

  async updateToxic(toxic: ToxicInstance): Promise<void> {
    const stub = this.stubs[toxic.index];
    if (stub && (await stub.interrupt())) stub.run(toxic);
  }

  /** `index` is the toxic's position before the collection removed it from the chain. */
  async removeToxic(toxic: ToxicInstance, index: number): Promise<void> {
    const stub = this.stubs[index];
    const previous = this.stubs[index - 1];
    if (!stub || !previous || !(await stub.interrupt())) return;
    if (toxic.definition.cleanup) {
      toxic.definition.cleanup(stub);
      if (stub.closed) return;
    }
    if (!(await this.drainWhileInterrupting(stub, previous))) return;
    previous.output = stub.output;
    this.stubs.splice(index, 1);
    previous.run(this.toxicAt(index - 1));
  }

  /**
   * Interrupts the stub before the removed one while passing on whatever it is still trying to
   * hand over, then flushes the removed stub's queue: nothing in flight is dropped. False if
   * the stream ended meanwhile (the stub was closed instead).
   */
  private async drainWhileInterrupting(stub: ToxicStub, previous: ToxicStub): Promise<boolean> {
    const stop = new AbortController();
    let previousLive = true;
    const interrupted = previous.interrupt().then((ok) => {
      previousLive = ok;
      stop.abort();
    });
    for (;;) {
      const chunk = await stub.input.recv(previousLive ? stop.signal : undefined);
      if (chunk === INTERRUPTED) {
        if (previousLive) break;
        continue;
      }
      if (chunk === null) {
        stub.close();
        await interrupted;
        return false;
      }
      await stub.sendWithin(chunk, FLUSH_MS);
    }
    for (let chunk = stub.input.tryRecv(); chunk !== undefined; chunk = stub.input.tryRecv()) {
      if (chunk === null) {
        stub.close();
        return false;
      }
      await stub.sendWithin(chunk, FLUSH_MS);
    }
    return true;
  }

  private toxicAt(stubIndex: number): ToxicInstance | null {
    return stubIndex === 0 ? null : (this.chain()[stubIndex - 1] ?? null);
  }

  private read(source: Socket): void {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.input.close();
    };
    source.on("data", (data: Buffer) => {
      this.received += data.length;
      const chunk = { data, timestamp: this.env.clock.monotonic() };
      // The common case (the first stub is waiting) needs no pause: pausing and resuming a
      // socket per read costs syscalls and halves throughput.
      if (this.input.trySend(chunk)) return;
      source.pause();
      void this.input.send(chunk).then(() => {
        if (!ended) source.resume();
      });
    });
    source.once("end", end);
    source.once("close", end);
    source.resume();
  }

  private async write(dest: Socket): Promise<LinkTotals> {
    for (;;) {
      const chunk = await this.output.recv();
      if (chunk === null || chunk === INTERRUPTED) break;
      // A broken destination still drains the chain so that every stub can finish.
      if (dest.destroyed || !dest.writable) continue;
      this.sent += chunk.data.length;
      dest.write(chunk.data);
      // Back-pressure as Go's blocking write gives it, allowing about what a kernel socket
      // buffer would hold so that large transfers are not throttled by one drain per chunk.
      if (dest.writableLength > WRITE_BUFFER_BYTES) await drained(dest);
    }
    closeSocket(dest);
    return { received: this.received, sent: this.sent };
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
