import type { Interrupted } from "../chan.js";

export const TIMED_OUT: unique symbol = Symbol("timed out");
export type TimedOut = typeof TIMED_OUT;

/** One read from a socket, stamped (monotonic ms) when the proxy read it. */
export interface Chunk {
  readonly data: Buffer;
  /** Monotonic ms; latency counts its delay from here, and moves it forward by what it slept. */
  timestamp: number;
}

/**
 * What a toxic sees of the stub it runs on: its input and output, an interrupt that asks it to
 * return so the chain can be re-linked, its per-connection state, the link's seeded random
 * source and the clock. A toxic must forward or deliberately drop every chunk it took, and
 * only ever return for one of two reasons: it was interrupted, or it closed the stub.
 */
export interface StubIO {
  /** Aborts when the link wants this toxic to stop (add, update or remove of a toxic). */
  readonly signal: AbortSignal;
  /** Next chunk; null at end of stream; INTERRUPTED if the interrupt came first. */
  recv(): Promise<Chunk | null | Interrupted>;
  /** Like recv, but gives TIMED_OUT if nothing arrived within `ms`. */
  recvWithin(ms: number): Promise<Chunk | null | Interrupted | TimedOut>;
  /** Hands a chunk on, waiting for the next stub to take it (back-pressure). */
  send(chunk: Chunk): Promise<void>;
  /** Like send, but gives up after `ms` (used when flushing after an interrupt). */
  sendWithin(chunk: Chunk, ms: number): Promise<void>;
  /** Waits `ms` (none if <= 0); false if interrupted first. */
  sleep(ms: number): Promise<boolean>;
  /** Waits `ms` ignoring interrupts (reset_peer's wait cannot be cut short). */
  sleepUninterruptible(ms: number): Promise<void>;
  /** Ends the stream downstream of this stub (closes its output). */
  close(): void;
  /** Monotonic ms now. */
  now(): number;
  /** The link's seeded random source, in [0, 1). */
  random(): number;
  /** Per-connection state of a stateful toxic (see ToxicDefinition.newState). */
  readonly state: unknown;
}

export type AttributeKind = "int64" | "int";

/**
 * One toxic type. `attributes` lists the numeric attributes in the order the real server
 * emits them (Go struct field order), each with its Go integer kind for error messages.
 */
export interface ToxicDefinition<A extends Record<string, number> = Record<string, number>> {
  readonly type: string;
  /** Go struct name, used in type-error messages ("LatencyToxic.attributes.latency"). */
  readonly goStruct: string;
  readonly attributes: { readonly [K in keyof A]: AttributeKind };
  /** Capacity of the channel in front of this toxic (latency buffers 1024 chunks). */
  readonly bufferSize: number;
  /**
   * Values the real server would accept but then hang or crash on; we reject them with this
   * message instead (null = acceptable).
   */
  invalid(attributes: A): string | null;
  newState?(): unknown;
  /** Runs before the toxic leaves a live link (timeout closes its connection here). */
  cleanup?(stub: Pick<StubIO, "close">): void;
  pipe(stub: StubIO, attributes: A): Promise<void>;
}

/** Erased form for the registry table. */
export type AnyToxicDefinition = ToxicDefinition<Record<string, number>>;
