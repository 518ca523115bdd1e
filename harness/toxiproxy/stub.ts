import type { Clock } from "../../common/clock.js";
import type { Chan } from "./chan.js";
import { INTERRUPTED, type Interrupted } from "./chan.js";
import { passThrough } from "./toxics/noop.js";
import { TIMED_OUT, type Chunk, type StubIO, type TimedOut } from "./toxics/toxic.js";
import type { ToxicInstance } from "./toxic-instance.js";

export interface StubEnv {
  readonly clock: Clock;
  readonly random: () => number;
}

/**
 * One place in a link's chain: an input channel, an output channel and the toxic currently
 * running between them. `interrupt` asks the running toxic to return (it does so at its next
 * wait) and resolves once it has, true unless the stub closed meanwhile; the link then
 * re-wires channels and calls `run` again. Each run draws toxicity once, so a toxic acts on a
 * whole connection or not at all, never per chunk.
 */
export class ToxicStub {
  state: unknown;
  private closedFlag = false;
  private running: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;

  constructor(
    public input: Chan<Chunk>,
    public output: Chan<Chunk>,
    private readonly env: StubEnv,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  run(toxic: ToxicInstance | null): void {
    const abort = new AbortController();
    const io = this.io(abort.signal);
    const active = toxic !== null && this.env.random() < toxic.toxicity;
    const work = active ? toxic.definition.pipe(io, toxic.attributes) : passThrough(io);
    const done = work.catch(() => this.close());
    this.running = { abort, done };
  }

  async interrupt(): Promise<boolean> {
    if (this.closedFlag) return false;
    const running = this.running;
    if (running) {
      running.abort.abort();
      await running.done;
    }
    return !this.closedFlag;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.output.close();
  }

  /** Hands a chunk on, giving up after `ms` (the flush after an interrupt must not hang). */
  sendWithin(chunk: Chunk, ms: number): Promise<void> {
    return withDeadline(this.output.send(chunk), ms, this.env.clock);
  }

  private io(signal: AbortSignal): StubIO {
    const { clock, random } = this.env;
    return {
      signal,
      state: this.state,
      recv: () => this.input.recv(signal),
      recvWithin: (ms) => recvWithin(this.input, signal, ms, clock),
      send: (chunk) => this.output.send(chunk),
      sendWithin: (chunk, ms) => this.sendWithin(chunk, ms),
      sleep: (ms) => sleepUnlessAborted(clock, ms, signal),
      sleepUninterruptible: (ms) => sleepAtLeast(clock, ms),
      close: () => this.close(),
      now: () => clock.monotonic(),
      random,
    };
  }
}

async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleepAtLeast(clock, ms, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sleeps until `ms` have passed on the clock's monotonic time. Why: Node's timers count from the
 * event loop's cached time, so one can fire up to a few ms early by performance.now() on a busy
 * machine (a 250 ms latency pair measured 248.8 ms), where Toxiproxy's Go sleep never returns
 * early; the remainder is slept again.
 */
async function sleepAtLeast(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const until = clock.monotonic() + ms;
  for (let left = ms; left > 0; left = until - clock.monotonic()) await clock.sleep(left, signal);
}

async function recvWithin(
  input: Chan<Chunk>,
  signal: AbortSignal,
  ms: number,
  clock: Clock,
): Promise<Chunk | null | Interrupted | TimedOut> {
  const local = new AbortController();
  let timedOut = false;
  const onAbort = (): void => local.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) local.abort();
  const timer = clock.setTimeout(() => {
    timedOut = true;
    local.abort();
  }, ms);
  try {
    const value = await input.recv(local.signal);
    if (value !== INTERRUPTED) return value;
    return signal.aborted ? INTERRUPTED : timedOut ? TIMED_OUT : INTERRUPTED;
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function withDeadline(work: Promise<void>, ms: number, clock: Clock): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(resolve, ms);
    void work.then(() => {
      clock.clearTimeout(timer);
      resolve();
    });
  });
}
