import type { Pool } from "undici";
import type { PreparedRequest } from "./templates.js";

/**
 * Sends `n` copies of `req` before the time origin, at most 8 at once, and records nothing:
 * they open connections and let undici compile its parser, so the client's start-up cost does
 * not show up as the target's latency in the first few hundred ms. They do reach the target.
 */
export async function warmUp(
  pool: Pool,
  prefix: string,
  req: PreparedRequest | undefined,
  n: number,
  deadlineMs: number,
): Promise<void> {
  if (n <= 0 || req === undefined) return;
  const one = async (): Promise<void> => {
    try {
      const signal = AbortSignal.timeout(deadlineMs);
      const res = await pool.request({
        path: prefix + req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
      });
      await res.body.dump();
    } catch {
      // A warm-up failure is not a measurement; the run will record whatever the target does.
    }
  };
  const parallel = Math.min(n, 8);
  for (let done = 0; done < n; done += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, one));
  }
}
