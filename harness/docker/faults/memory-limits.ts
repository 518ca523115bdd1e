/**
 * Memory limit arithmetic, kept pure. Docker's update API cannot clear a limit back to
 * "unlimited" (0 means "leave unchanged" there, -1 is refused), so an originally unlimited
 * container is restored to a limit no host reaches: 1 PiB for memory and memory+swap.
 */
export const EFFECTIVELY_UNLIMITED_BYTES = 2 ** 50;
/** Docker refuses limits under 6 MiB. */
export const MIN_LIMIT_BYTES = 6 * 1024 * 1024;

/** HostConfig.Memory / MemorySwap as inspect reports them (0 = not set, -1 = unlimited swap). */
export type MemorySettings = { memory: number; memorySwap: number };

/** The update that puts back the original settings (see the file comment for 0). */
export function restoreUpdate(original: MemorySettings): { Memory: number; MemorySwap: number } {
  const { memory, memorySwap } = original;
  if (memory <= 0) return { Memory: EFFECTIVELY_UNLIMITED_BYTES, MemorySwap: EFFECTIVELY_UNLIMITED_BYTES };
  if (memorySwap > 0) return { Memory: memory, MemorySwap: memorySwap };
  // Not set: Docker's default for a memory limit is swap = memory (so memory+swap = 2x).
  if (memorySwap === 0) return { Memory: memory, MemorySwap: 2 * memory };
  return { Memory: memory, MemorySwap: EFFECTIVELY_UNLIMITED_BYTES };
}

/** The lowered limit, with swap equal to it so the container is OOM-killed instead of swapping. */
export function lowerUpdate(limitBytes: number): { Memory: number; MemorySwap: number } {
  return { Memory: limitBytes, MemorySwap: limitBytes };
}

export const mib = (bytes: number): string => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
