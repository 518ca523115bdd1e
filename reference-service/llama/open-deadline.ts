import type { Clock } from "../../common/clock.js";

/**
 * Calls `onLate` once if `work` has not settled within `ms` on `clock`; the promise itself is
 * returned unchanged (a late result still arrives if `onLate` did not end the process).
 *
 * Why: node-llama-cpp's getLlama first tests its binary in a child process. Loads wait for it,
 * and the heartbeat keeps beating meanwhile (it must not wait for seconds of binary testing),
 * so a getLlama that never settles would leave every load waiting forever behind a worker the
 * supervisor sees as healthy. The load watchdog only covers llama.cpp's own load.
 */
export function settleWithin<T>(work: Promise<T>, ms: number, clock: Clock, onLate: () => void): Promise<T> {
  const timer = clock.setTimeout(onLate, ms);
  const clear = (): void => clock.clearTimeout(timer);
  work.then(clear, clear);
  return work;
}
