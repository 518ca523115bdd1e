const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface OomFacts {
  readonly deviceIndex: number;
  readonly triedBytes: number;
  readonly totalBytes: number;
  /** Bytes this process holds (weights, KV, runtime overhead). */
  readonly allocatedBytes: number;
  readonly freeBytes: number;
}

/**
 * The message PyTorch prints on a CUDA OOM (as quoted in vllm#783), so log scrapers and humans
 * that know the real thing recognise the simulated one.
 */
export function cudaOomMessage(f: OomFacts): string {
  return (
    `CUDA out of memory. Tried to allocate ${(f.triedBytes / GiB).toFixed(2)} GiB ` +
    `(GPU ${f.deviceIndex}; ${(f.totalBytes / GiB).toFixed(2)} GiB total capacity; ` +
    `${(f.allocatedBytes / GiB).toFixed(2)} GiB already allocated; ${(Math.max(0, f.freeBytes) / MiB).toFixed(2)} MiB free)`
  );
}
