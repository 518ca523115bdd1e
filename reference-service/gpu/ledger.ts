import { GpuOutOfMemoryError } from "../backend-errors.js";
import { cudaOomMessage } from "./cuda-message.js";

export interface LedgerConfig {
  readonly deviceIndex?: number;
  readonly totalBytes: number;
  readonly reservedBytes: number;
}

export interface LedgerSnapshot {
  readonly totalBytes: number;
  readonly reservedBytes: number;
  readonly cotenantBytes: number;
  readonly weightsBytes: number;
  readonly kvBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
}

/**
 * VRAM accounting for one simulated device: runtime overhead, memory other tenants hold
 * (co-tenant files), model weights and per-request KV cache. Every allocation either fits in
 * what is free or throws a GpuOutOfMemoryError with a CUDA-shaped message.
 */
export class VramLedger {
  private cotenant = 0;
  private readonly weights = new Map<string, number>();
  private readonly kv = new Map<string, number>();

  constructor(private readonly config: LedgerConfig) {}

  get totalBytes(): number {
    return this.config.totalBytes;
  }

  setCotenantBytes(bytes: number): void {
    this.cotenant = Math.max(0, bytes);
  }

  get cotenantBytes(): number {
    return this.cotenant;
  }

  get weightsBytes(): number {
    return sum(this.weights.values());
  }

  get kvBytes(): number {
    return sum(this.kv.values());
  }

  /** What this process holds: overhead, weights and KV. */
  get ownBytes(): number {
    return this.config.reservedBytes + this.weightsBytes + this.kvBytes;
  }

  get usedBytes(): number {
    return this.ownBytes + this.cotenant;
  }

  get freeBytes(): number {
    return Math.max(0, this.config.totalBytes - this.usedBytes);
  }

  /** used / total, 0..1 (can exceed 1 when a co-tenant grabbed memory we already hold). */
  get usage(): number {
    return this.usedBytes / this.config.totalBytes;
  }

  kvBytesOf(requestId: string): number {
    return this.kv.get(requestId) ?? 0;
  }

  hasWeights(model: string): boolean {
    return this.weights.has(model);
  }

  /** Throws GpuOutOfMemoryError unless `bytes` (plus `headroomBytes` left free) fit now. */
  assertFits(bytes: number, headroomBytes = 0): void {
    if (bytes + headroomBytes > this.freeBytes) {
      throw new GpuOutOfMemoryError(
        cudaOomMessage({
          deviceIndex: this.config.deviceIndex ?? 0,
          triedBytes: bytes + headroomBytes,
          totalBytes: this.config.totalBytes,
          allocatedBytes: this.ownBytes,
          freeBytes: this.freeBytes,
        }),
      );
    }
  }

  allocateWeights(model: string, bytes: number, headroomBytes = 0): void {
    if (this.weights.has(model)) return;
    this.assertFits(bytes, headroomBytes);
    this.weights.set(model, bytes);
  }

  freeWeights(model: string): void {
    this.weights.delete(model);
  }

  /** Grows a request's KV cache by `bytes`. */
  allocateKv(requestId: string, bytes: number): void {
    if (bytes <= 0) return;
    this.assertFits(bytes);
    this.kv.set(requestId, (this.kv.get(requestId) ?? 0) + bytes);
  }

  freeKv(requestId: string): void {
    this.kv.delete(requestId);
  }

  snapshot(): LedgerSnapshot {
    return {
      totalBytes: this.config.totalBytes,
      reservedBytes: this.config.reservedBytes,
      cotenantBytes: this.cotenant,
      weightsBytes: this.weightsBytes,
      kvBytes: this.kvBytes,
      usedBytes: this.usedBytes,
      freeBytes: this.freeBytes,
    };
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
