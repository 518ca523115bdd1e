import type { BenchRow } from "../row.js";
import { Pool } from "undici";

export type { BenchRow } from "../row.js";

export function row(name: string, value: number, unit: string, baseline?: number): BenchRow {
  const v = Math.round(value * 100) / 100;
  if (baseline === undefined) return { name, value: v, unit };
  return {
    name,
    value: v,
    unit,
    baseline: Math.round(baseline * 100) / 100,
    ratio: Math.round((value / baseline) * 1000) / 1000,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const CHAT_BODY = JSON.stringify({
  model: "sim-zero",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 1,
});

/** A keep-alive client of one connection: sequential round trips, nothing queued behind them. */
export class Client {
  private readonly pool: Pool;
  constructor(url: string) {
    this.pool = new Pool(url, { connections: 1, pipelining: 1 });
  }

  /** One chat request; resolves with [µs, status]. */
  async chat(): Promise<[number, number]> {
    const t0 = performance.now();
    const r = await this.pool.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT_BODY,
    });
    await r.body.text();
    return [(performance.now() - t0) * 1000, r.statusCode];
  }

  async get(path: string): Promise<number> {
    const r = await this.pool.request({ path, method: "GET" });
    await r.body.text();
    return r.statusCode;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface Latencies {
  readonly p50: number;
  readonly p99: number;
  /** Status of each sample, counted. */
  readonly statuses: ReadonlyMap<number, number>;
}

/** `samples` round trips per client in alternating blocks, so every path sees the same machine load. */
export async function interleaved(
  clients: readonly Client[],
  samples: number,
  block = 100,
): Promise<Latencies[]> {
  const times: number[][] = clients.map(() => []);
  const statuses = clients.map(() => new Map<number, number>());
  for (const c of clients) for (let i = 0; i < 50; i++) await c.chat();
  for (let done = 0; done < samples; done += block) {
    for (const [i, c] of clients.entries()) {
      for (let k = 0; k < Math.min(block, samples - done); k++) {
        const [us, status] = await c.chat();
        times[i].push(us);
        statuses[i].set(status, (statuses[i].get(status) ?? 0) + 1);
      }
    }
  }
  return times.map((t, i) => {
    const sorted = [...t].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), statuses: statuses[i] };
  });
}
