import type { ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { request } from "undici";
import { RunNotPossibleError } from "../../common/errors.js";

/** Appends a child's stdout and stderr to a log file (the target's output never reaches the user's terminal). */
export function openLog(path: string): WriteStream {
  return createWriteStream(path, { flags: "a" });
}

export function pipeToLog(child: ChildProcess, log: WriteStream): void {
  child.stdout?.on("data", (d: Buffer) => log.write(d));
  child.stderr?.on("data", (d: Buffer) => log.write(d));
}

/**
 * Resolves with the first match of `pattern` on the child's stdout. Rejects if the child exits
 * first or `timeoutMs` passes (real time: it bounds a real process start).
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
    };
    const onData = (d: Buffer): void => {
      buffered += d.toString("utf8");
      const m = pattern.exec(buffered);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(
        new RunNotPossibleError(`${what} exited before it was ready (${signal ?? `code ${code ?? "?"}`})`),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new RunNotPossibleError(`${what} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** GET url until it answers 2xx, polling every 100 ms up to `timeoutMs`; returns the last failure otherwise. */
export async function waitHttpOk(
  url: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline && isAlive()) {
    try {
      const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return null;
      last = `HTTP ${res.statusCode}`;
    } catch (e) {
      last = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return isAlive() ? last : "process exited";
}
