import { spawn } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import os from "node:os";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import type { Injector } from "../injector.js";
import { occurrenceIdOf, plantedName } from "../occurrence.js";
import { isSameProcess, readProcStat, signalQuietly } from "../proc.js";

const params = z.strictObject({
  /** Busy processes to start; default: one per core, so the whole host is busy. */
  workers: z.number().int().min(1).max(64).optional(),
  /**
   * Each burner exits on its own after this long, revert or not: the bound that holds even
   * when the harness is SIGKILLed and `faultline cleanup` never runs. Give at least the
   * fault's duration in the scenario.
   */
  maxSeconds: z.number().int().min(1).max(3600).default(600),
});
type Params = z.infer<typeof params>;
type Burner = { pid: number; startTime: number };
type State = { marker: string; burners: Burner[] };

/**
 * A bash busy loop bounded by bash's own SECONDS counter (no forks inside the loop). Its $0
 * is the planted name `faultline-<occurrenceId>`, so /proc/<pid>/cmdline names the occurrence
 * and cleanup finds burners from the journal's occurrence id alone.
 */
const burnScript = (maxSeconds: number): string => `while [ "$SECONDS" -lt ${maxSeconds} ]; do :; done`;

async function startBurner(marker: string, maxSeconds: number): Promise<Burner> {
  const child = spawn("bash", ["-c", burnScript(maxSeconds), marker], { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new FaultError("cpu-burn could not start bash", "is bash installed?");
  const stat = await readProcStat(pid);
  if (!stat) throw new FaultError(`cpu-burn: burner ${pid} exited at once`);
  return { pid, startTime: stat.startTime };
}

/** Pids whose command line is a burner of this occurrence (`bash -c <loop> <marker>`). */
export async function findBurners(marker: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    const args = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (args[1] === "-c" && args[3] === marker && (args[0] ?? "").endsWith("bash")) found.push(pid);
  }
  return found;
}

async function killBurners(marker: string, known: readonly Burner[]): Promise<void> {
  for (const b of known) if (await isSameProcess(b.pid, b.startTime)) signalQuietly(b.pid, "SIGKILL");
  // Burners started by an inject that failed half-way are not in `known`: find them by name.
  for (const pid of await findBurners(marker)) signalQuietly(pid, "SIGKILL");
}

/**
 * Real CPU load on the host: `workers` busy processes (default one per core) until revert,
 * each bounded by `maxSeconds`. For checking CPU usage thresholds and how a service serves
 * on a starved host; it competes for the CPU, it does not cap the target (cpu-quota does).
 */
export const cpuBurn: Injector<Params, State> = {
  kind: "cpu-burn",
  summary: "Busy processes on the host (default one per core), killed at revert, each bounded by maxSeconds",
  params,
  targets: ["host"],
  isInstant: () => false,
  describe: (p) => `${p.workers ?? os.cpus().length} busy processes on the host (at most ${p.maxSeconds} s)`,
  async inject(p, ctx) {
    const marker = plantedName(occurrenceIdOf(ctx));
    const state: State = { marker, burners: [] };
    try {
      for (let i = 0; i < (p.workers ?? os.cpus().length); i++)
        state.burners.push(await startBurner(marker, p.maxSeconds));
    } catch (e) {
      await killBurners(marker, state.burners);
      throw e;
    }
    return state;
  },
  async revert(s) {
    await killBurners(s.marker, s.burners);
  },
  async revertPending(_p, pending) {
    await killBurners(plantedName(pending.occurrenceId), []);
  },
};
