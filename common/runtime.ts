import { systemClock, type Clock } from "./clock.js";

/**
 * All process state a program touches (clock, environment, stdio, exit, signals), built once
 * in each entry module and passed down, so that everything below an entry point is testable
 * without touching the real process.
 */
export interface Runtime {
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Subscribes to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void;
}

export function processRuntime(): Runtime {
  return {
    clock: systemClock,
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}
