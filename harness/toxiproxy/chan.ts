/**
 * A Go-style channel for chunks moving between toxic stubs. The real Toxiproxy joins its
 * stubs with channels, and its semantics hang on that: unbuffered hops make a sender wait for
 * its receiver (so back-pressure reaches the socket), closing a channel is how end-of-stream
 * travels down a chain, and a receive can be abandoned when the stub is interrupted without
 * losing a value. This class keeps exactly those three properties and nothing else.
 */

/** Returned by `recv` when the signal fired before any value was available. */
export const INTERRUPTED: unique symbol = Symbol("interrupted");
export type Interrupted = typeof INTERRUPTED;

interface PendingSend<T> {
  readonly value: T;
  readonly resolve: () => void;
}

export class Chan<T> {
  private readonly buffer: T[] = [];
  private readonly senders: PendingSend<T>[] = [];
  private readonly receivers: ((value: T | null) => void)[] = [];
  private closedFlag = false;

  constructor(readonly capacity = 0) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Values waiting in the buffer (Go's `len(ch)`). */
  get length(): number {
    return this.buffer.length;
  }

  /**
   * Resolves once a receiver took the value or it was buffered. Sending on a closed channel
   * drops the value (Go would panic; here the link has ended and nobody will read it).
   */
  send(value: T): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    const receiver = this.receivers.shift();
    if (receiver) {
      receiver(value);
      return Promise.resolve();
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(value);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.senders.push({ value, resolve }));
  }

  /** Hands the value over only if that needs no waiting (a receiver waits or the buffer has room). */
  trySend(value: T): boolean {
    if (this.closedFlag) return true;
    if (this.receivers.length === 0 && this.buffer.length >= this.capacity) return false;
    void this.send(value);
    return true;
  }

  /** Takes a value that is ready now, without waiting; undefined when none is. */
  tryRecv(): T | null | undefined {
    const buffered = this.buffer.shift();
    if (buffered !== undefined) {
      this.refillFromSenders();
      return buffered;
    }
    const sender = this.senders.shift();
    if (sender) {
      sender.resolve();
      return sender.value;
    }
    return this.closedFlag ? null : undefined;
  }

  /**
   * The next value, or null once the channel is closed and drained. A ready value always wins
   * over the signal, so nothing already handed over is ever lost to an interrupt.
   */
  recv(signal?: AbortSignal): Promise<T | null | Interrupted> {
    const ready = this.tryRecv();
    if (ready !== undefined) return Promise.resolve(ready);
    if (signal?.aborted) return Promise.resolve(INTERRUPTED);
    return new Promise((resolve) => {
      const receiver = (value: T | null): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = (): void => {
        const at = this.receivers.indexOf(receiver);
        if (at >= 0) this.receivers.splice(at, 1);
        resolve(INTERRUPTED);
      };
      this.receivers.push(receiver);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const receiver of this.receivers.splice(0)) receiver(null);
  }

  private refillFromSenders(): void {
    const sender = this.senders.shift();
    if (!sender) return;
    this.buffer.push(sender.value);
    sender.resolve();
  }
}
