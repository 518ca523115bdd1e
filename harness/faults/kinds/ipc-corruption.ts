import { watch, type FSWatcher } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Clock, TimerHandle } from "../../../common/clock.js";
import { FaultError } from "../../../common/errors.js";
import { spoolDir, spoolQuarantineDir } from "../../targets/reference/layout.js";
import type { Injector } from "../injector.js";
import { IpcManifest, faultsDirOf } from "../ipc-manifest.js";
import { IPC_MODES, corruptVictim, isVictimMode, plant, type IpcMode, type ModeEnv } from "../ipc-modes.js";
import { occurrenceIdOf } from "../occurrence.js";

const params = z
  .strictObject({
    mode: z.enum(IPC_MODES),
    dir: z.enum(["requests", "responses"]).default("requests"),
    /** Corruptions per second while the fault lasts. */
    rate: z.number().gt(0).max(1000).optional(),
    /** This many corruptions at once (victim modes: the next N frames that appear). */
    burst: z.number().int().positive().max(10_000).optional(),
    bits: z.number().int().min(1).max(64).default(1),
    staleAgeMs: z.number().int().positive().default(600_000),
    /** auto: chmod when the harness is not root, else a symlink loop (root ignores modes). */
    unreadableAs: z.enum(["auto", "chmod", "loop"]).default("auto"),
  })
  .superRefine((p, ctx) => {
    if ((p.rate === undefined) === (p.burst === undefined)) {
      ctx.addIssue({ code: "custom", path: ["rate"], message: "give exactly one of rate or burst" });
    }
  });
type Params = z.infer<typeof params>;
type State = { spoolDir: string; quarantineDir: string; manifestDir: string; occurrenceId: string };

/** One running corruption loop (in the process that injected it). */
class Corrupter {
  private armed = 0;
  private timer: TimerHandle | undefined;
  private watcher: FSWatcher | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Frames already hit: each corruption takes a different frame (our own writes fire watch events too). */
  private readonly hit = new Set<string>();
  done = 0;
  errors: string[] = [];

  constructor(
    private readonly mode: IpcMode,
    private readonly spoolDir: string,
    private readonly dirName: "requests" | "responses",
    private readonly env: ModeEnv,
    private readonly clock: Clock,
  ) {}

  async start(p: Params): Promise<void> {
    if (isVictimMode(this.mode)) {
      this.watcher = watch(this.spoolDir, (_ev, name) => {
        if (name) this.enqueue(() => this.onFile(name));
      });
    }
    if (p.burst !== undefined) {
      for (let i = 0; i < p.burst; i++) this.enqueue(() => this.tick(p.burst ?? 1));
    } else {
      this.every(1000 / (p.rate ?? 1));
    }
    await this.queue;
  }

  /** Resolves when the corruptions queued so far are done. */
  settled(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.watcher?.close();
    await this.queue;
  }

  private every(intervalMs: number): void {
    this.enqueue(() => this.tick(1));
    this.timer = this.clock.setTimeout(() => {
      if (!this.stopped) this.every(intervalMs);
    }, intervalMs);
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queue = this.queue.then(fn).catch((e: unknown) => void this.errors.push(String(e)));
  }

  /** Plants a file, or arms one victim corruption (capped so idle time does not bank a flood). */
  private async tick(cap: number): Promise<void> {
    if (this.stopped) return;
    if (!isVictimMode(this.mode)) {
      await plant(this.mode, this.spoolDir, this.dirName, this.env);
      this.done++;
      return;
    }
    this.armed = Math.min(this.armed + 1, cap);
    const names = (await readdir(this.spoolDir).catch(() => [] as string[])).filter(
      (n) => isRealFrame(n) && !this.hit.has(n),
    );
    while (this.armed > 0 && names.length > 0) {
      const [name] = names.splice(Math.floor(this.env.random() * names.length), 1);
      if (name) await this.onFile(name);
    }
  }

  private async onFile(name: string): Promise<void> {
    if (this.stopped || this.armed <= 0 || !isRealFrame(name) || this.hit.has(name)) return;
    if (!isVictimMode(this.mode)) return;
    this.hit.add(name);
    if (await corruptVictim(this.mode, join(this.spoolDir, name), this.env)) {
      this.armed--;
      this.done++;
    }
  }
}

/** Frames the service wrote (not temp files, not ours, not our duplicates). */
const isRealFrame = (name: string): boolean =>
  name.endsWith(".frame") && !name.startsWith(".") && !name.includes("faultline-") && !name.startsWith("99");

const running = new Map<string, Corrupter>();

/** How many corruptions a running occurrence has made (for tests and the dashboard). */
export async function ipcCorruptionProgress(
  occurrenceId: string,
): Promise<{ done: number; errors: readonly string[] } | null> {
  const c = running.get(occurrenceId);
  if (!c) return null;
  await c.settled();
  return { done: c.done, errors: c.errors };
}

function statePaths(stateDir: string, dir: "requests" | "responses", occurrenceId: string): State {
  return {
    spoolDir: spoolDir(stateDir, dir),
    quarantineDir: spoolQuarantineDir(stateDir),
    manifestDir: faultsDirOf(stateDir, occurrenceId),
    occurrenceId,
  };
}

async function revert(s: State): Promise<void> {
  const c = running.get(s.occurrenceId);
  running.delete(s.occurrenceId);
  await c?.stop();
  await new IpcManifest(s.manifestDir).undoAll(s.quarantineDir);
}

export const ipcCorruption: Injector<Params, State> = {
  kind: "ipc-corruption",
  summary:
    "Corrupt spool frames: truncate, random bytes, bit flips, invalid/wrong-schema/stale frames, duplicates, deletes, unreadable files",
  params,
  targets: ["spool"],
  isInstant: () => false,
  describe: (p, target) =>
    `${p.mode} on ${target} ${p.dir} ${p.rate !== undefined ? `at ${p.rate}/s` : `burst of ${p.burst}`}`,
  async inject(p, ctx) {
    if (!ctx.target.stateDir) throw new FaultError(`target "${ctx.targetName}" has no state directory`);
    const occurrenceId = occurrenceIdOf(ctx);
    const state = statePaths(ctx.target.stateDir, p.dir, occurrenceId);
    let n = 0;
    const env: ModeEnv = {
      manifest: new IpcManifest(state.manifestDir),
      random: ctx.random,
      nowMs: () => ctx.clock.now(),
      occurrenceId,
      bits: p.bits,
      staleAgeMs: p.staleAgeMs,
      unreadableAs:
        p.unreadableAs === "auto" ? (process.getuid?.() === 0 ? "loop" : "chmod") : p.unreadableAs,
      next: () => ++n,
    };
    const corrupter = new Corrupter(p.mode, state.spoolDir, p.dir, env, ctx.clock);
    running.set(occurrenceId, corrupter);
    await corrupter.start(p);
    return state;
  },
  revert,
  async revertPending(p, pending) {
    if (pending.stateDir) await revert(statePaths(pending.stateDir, p.dir, pending.occurrenceId));
  },
};
