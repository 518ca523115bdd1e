import { readdir, rm, stat } from "node:fs/promises";
import { systemClock, type Clock } from "../../common/clock.js";
import { isCarrierGone } from "./carrier.js";
import type { AnyInjector } from "./injector.js";
import { FaultJournal, type JournalEntry } from "./journal.js";
import { errorText, undoPending } from "./occurrence-steps.js";
import { isSameProcess, readProcStat, signalQuietly } from "./proc.js";
import { FAULT_KINDS } from "./registry.js";
import { StartedJournal, type StartedEntry } from "./started.js";

export type CleanupAction =
  | "reverted" // an active fault, reverted from its journaled state
  | "undone-pending" // inject never returned: whatever it may have done was undone
  | "carrier-gone" // what carried the fault (proxy, container, process) is gone: nothing in effect
  | "skipped-live" // the harness that wrote it is still running (use force)
  | "failed" // revert threw: the entry stays for the next run of cleanup
  | "unreadable" // the journal file could not be parsed: left in place
  | "stopped" // a process, container stack or file the dead harness had started, now stopped (or removed)
  | "already-gone"; // what the dead harness had started had already exited: entry cleared

export interface CleanupItem {
  readonly file: string;
  readonly action: CleanupAction;
  readonly occurrenceId?: string;
  readonly kind?: string;
  readonly target?: string;
  readonly description?: string;
  readonly error?: string;
}

export interface CleanupReport {
  readonly journalDir: string;
  readonly items: readonly CleanupItem[];
}

export interface CleanupOptions {
  readonly journalDir: string;
  /** Also revert faults of a harness that is still running. */
  readonly force?: boolean;
  readonly clock?: Clock;
  readonly registry?: Readonly<Record<string, AnyInjector>>;
  /** Environment for reaching Docker (DOCKER_HOST) when a started container stack is left. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

async function harnessAlive(e: Pick<JournalEntry, "harnessPid" | "harnessStartTime">): Promise<boolean> {
  if (e.harnessPid === process.pid || e.harnessStartTime === null) return false;
  return isSameProcess(e.harnessPid, e.harnessStartTime);
}

async function cleanEntry(
  journal: FaultJournal,
  file: string,
  e: JournalEntry,
  opts: CleanupOptions,
): Promise<CleanupItem> {
  const base = { file, occurrenceId: e.occurrenceId, kind: e.kind, target: e.target };
  if (!opts.force && (await harnessAlive(e))) {
    return { ...base, action: "skipped-live", error: `harness pid ${e.harnessPid} is still running` };
  }
  const registry: Readonly<Record<string, AnyInjector>> = opts.registry ?? FAULT_KINDS;
  const injector = Object.hasOwn(registry, e.kind) ? registry[e.kind] : undefined;
  if (!injector) return { ...base, action: "failed", error: `unknown fault kind "${e.kind}"` };
  const parsed = injector.params.safeParse(e.params);
  const description = parsed.success ? injector.describe(parsed.data, e.target) : undefined;
  const ctx = { clock: opts.clock ?? systemClock };
  let error: string | null;
  let gone: string | null = null;
  if (e.phase === "pending") {
    error = await undoPending(injector, e, ctx);
  } else {
    error = await injector.revert(e.revertState, ctx).then(
      () => null,
      (err: unknown) => {
        if (!isCarrierGone(err)) return errorText(err);
        gone = err.reason;
        return null;
      },
    );
  }
  if (error !== null) return { ...base, description, action: "failed", error };
  await journal.remove(e.occurrenceId);
  if (gone !== null) return { ...base, description, action: "carrier-gone", error: gone };
  return { ...base, description, action: e.phase === "pending" ? "undone-pending" : "reverted" };
}

/** Real time: these bound real processes that are not ours to wait for. */
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;

async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return done();
}

/** Live processes whose process group is `pgid` (read from /proc). */
async function groupMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir("/proc").catch(() => [] as string[]))
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
  const stats = await Promise.all(pids.map((pid) => readProcStat(pid)));
  return stats.filter((st) => st !== null && st.pgid === pgid && st.state !== "Z").map((st) => st!.pid);
}

/**
 * Stops one started process and, when it led a process group, the rest of that group (a
 * reference API's worker, a command's children): SIGTERM, then SIGKILL. When the leader is
 * already gone, members left in its group are still stopped; a group id cannot be taken by a
 * new group while any old member lives, and a leader pid that now names another process means
 * the group is not ours to touch.
 */
async function stopProcess(r: Extract<StartedEntry["resource"], { type: "process" }>): Promise<boolean> {
  const leaderAlive = await isSameProcess(r.pid, r.startTime);
  const stat = await readProcStat(r.pid);
  const group =
    r.pgid !== null && r.pgid === r.pid && (leaderAlive ? stat?.pgid === r.pid : stat === null)
      ? await groupMembers(r.pgid)
      : [];
  if (!leaderAlive && group.length === 0) return false;
  const target = group.length > 0 ? -r.pid : r.pid;
  signalQuietly(target, "SIGTERM");
  signalQuietly(target, "SIGCONT"); // a frozen process acts on SIGTERM only once it runs
  const allGone = async (): Promise<boolean> =>
    group.length > 0 ? (await groupMembers(r.pid)).length === 0 : !(await isSameProcess(r.pid, r.startTime));
  if (!(await waitUntil(allGone, STOP_GRACE_MS))) {
    signalQuietly(target, "SIGKILL");
    if (!(await waitUntil(allGone, KILL_WAIT_MS))) throw new Error(`pid ${r.pid} did not exit after SIGKILL`);
  }
  return true;
}

/** Removes a file a dead run left (true when there was one). */
async function removeFile(path: string): Promise<boolean> {
  const existed = await stat(path).then(
    () => true,
    () => false,
  );
  await rm(path, { force: true });
  return existed;
}

async function stopDockerRun(runId: string, env: CleanupOptions["env"]): Promise<boolean> {
  // Lazy: dockerode loads only when a container stack was left behind.
  const { dockerClient } = await import("../docker/client.js");
  const { removeRunResources } = await import("../docker/resources.js");
  const removed = await removeRunResources(dockerClient(env ?? process.env), runId);
  return removed.containers.length + removed.networks.length > 0;
}

async function cleanStarted(
  journal: StartedJournal,
  file: string,
  e: StartedEntry,
  opts: CleanupOptions,
): Promise<CleanupItem> {
  const r = e.resource;
  const base = {
    file,
    kind: `started ${r.type === "process" ? "process" : r.type === "file" ? "file" : "containers"}`,
    target: e.what,
    description:
      r.type === "process"
        ? `pid ${r.pid}${r.pgid !== null ? " and its process group" : ""}`
        : r.type === "file"
          ? r.path
          : `run ${r.runId}`,
  };
  if (!opts.force && (await harnessAlive(e))) {
    return { ...base, action: "skipped-live", error: `harness pid ${e.harnessPid} is still running` };
  }
  let stopped: boolean;
  try {
    stopped =
      r.type === "process"
        ? await stopProcess(r)
        : r.type === "file"
          ? await removeFile(r.path)
          : await stopDockerRun(r.runId, opts.env);
  } catch (err) {
    return { ...base, action: "failed", error: errorText(err) };
  }
  await journal.remove(file);
  return { ...base, action: stopped ? "stopped" : "already-gone" };
}

/**
 * `faultline cleanup`: reverts every fault a crashed or killed harness left in the journal,
 * from the journal alone (a fresh process knows nothing else). Newest first, the reverse of
 * injection. Then it stops what that harness had started (target processes, HAProxy,
 * containers), after the faults, since reverting a fault may need its process (a frozen one
 * is thawed first). Running it twice is harmless: cleared entries are gone, reverts are idempotent.
 */
export async function runCleanup(opts: CleanupOptions): Promise<CleanupReport> {
  const journal = new FaultJournal(opts.journalDir);
  const items: CleanupItem[] = [];
  for (const read of (await journal.list()).reverse()) {
    if (!read.ok) {
      items.push({ file: read.file, action: "unreadable", error: read.error });
      continue;
    }
    items.push(await cleanEntry(journal, read.file, read.entry, opts));
  }
  const started = new StartedJournal(opts.journalDir);
  for (const read of (await started.list()).reverse()) {
    if (!read.ok) {
      items.push({ file: read.file, action: "unreadable", error: read.error });
      continue;
    }
    items.push(await cleanStarted(started, read.file, read.entry, opts));
  }
  return { journalDir: opts.journalDir, items };
}
