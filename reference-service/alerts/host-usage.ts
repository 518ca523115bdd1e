/**
 * Host CPU and memory usage for the alert rules (write-up 002: "CPU usage thresholds (warning:
 * 80%, critical: 95%), Memory usage thresholds (warning: 80%, critical: 95%)"). The arithmetic is
 * pure (fixed inputs in tests); HostUsageReader is the thin part that reads the live host.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

/** CPU time summed over every core since boot, in ms (os.cpus()'s `times`). */
export interface CpuTimes {
  readonly idleMs: number;
  readonly totalMs: number;
}

/** Fractions in [0, 1]; null when not known (no interval yet, or the source is unreadable). */
export interface HostUsage {
  readonly cpu: number | null;
  readonly memory: number | null;
  /** Cores the CPU figure is over; where the memory figure came from (metric labels). */
  readonly cores?: number;
  readonly memorySource?: "meminfo" | "freemem";
}

type CoreTimes = Readonly<Record<"user" | "nice" | "sys" | "idle" | "irq", number>>;

export function cpuTimes(cores: readonly { readonly times: CoreTimes }[]): CpuTimes {
  let idleMs = 0;
  let totalMs = 0;
  for (const { times: t } of cores) {
    idleMs += t.idle;
    totalMs += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idleMs, totalMs };
}

/**
 * Busy share of all cores between two readings. Null when no CPU time passed between them (two
 * readings in the same clock tick) or the counters went backwards (a core went offline).
 */
export function cpuUtilization(prev: CpuTimes, now: CpuTimes): number | null {
  const total = now.totalMs - prev.totalMs;
  const idle = now.idleMs - prev.idleMs;
  if (total <= 0 || idle < 0) return null;
  return Math.min(1, Math.max(0, 1 - idle / total));
}

/**
 * 1 - MemAvailable/MemTotal from /proc/meminfo's text: MemAvailable counts reclaimable page
 * cache as available, which MemFree does not (a full page cache is not memory pressure).
 * Null when either line is missing.
 */
export function memoryUsedFromMeminfo(meminfo: string): number | null {
  const kb = (field: string): number | null => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(meminfo);
    return m ? Number(m[1]) : null;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable");
  if (total === null || available === null || total <= 0) return null;
  return Math.min(1, Math.max(0, 1 - available / total));
}

/** Reads the live host; CPU usage covers the interval since the previous `read()`. */
export class HostUsageReader {
  private prev: CpuTimes | null = null;

  read(): HostUsage {
    const cores = os.cpus();
    const now = cpuTimes(cores);
    const cpu = this.prev === null ? null : cpuUtilization(this.prev, now);
    this.prev = now;
    return { cpu, cores: cores.length, ...readMemoryUsed() };
  }
}

function readMemoryUsed(): Pick<HostUsage, "memory" | "memorySource"> {
  try {
    return { memory: memoryUsedFromMeminfo(readFileSync("/proc/meminfo", "utf8")), memorySource: "meminfo" };
  } catch {
    // Not Linux: os.freemem() excludes page cache, so this reads higher than MemAvailable would.
    const total = os.totalmem();
    return { memory: total > 0 ? 1 - os.freemem() / total : null, memorySource: "freemem" };
  }
}

/**
 * What of the host (of `which`) is at its critical threshold (above it, as the alert rules judge), e.g.
 * "host memory usage 97.0% (critical above 95%)"; null when neither is, or neither is known.
 */
export function hostCritical(
  usage: HostUsage | undefined,
  thresholds: { readonly cpuCriticalAbove: number; readonly memoryCriticalAbove: number },
  which: readonly ("cpu" | "memory")[] = ["cpu", "memory"],
): string | null {
  if (!usage) return null;
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const over: string[] = [];
  if (which.includes("cpu") && usage.cpu !== null && usage.cpu > thresholds.cpuCriticalAbove)
    over.push(`host CPU usage ${pct(usage.cpu)} (critical above ${pct(thresholds.cpuCriticalAbove)})`);
  if (which.includes("memory") && usage.memory !== null && usage.memory > thresholds.memoryCriticalAbove)
    over.push(
      `host memory usage ${pct(usage.memory)} (critical above ${pct(thresholds.memoryCriticalAbove)})`,
    );
  return over.length > 0 ? over.join(", ") : null;
}
