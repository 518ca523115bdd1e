import { systemClock, type Clock } from "../../common/clock.js";
import { isCarrierGone } from "./carrier.js";
import type { AnyInjector } from "./injector.js";
import { FaultJournal, type JournalEntry } from "./journal.js";
import { errorText, undoPending } from "./occurrence-steps.js";
import { isSameProcess } from "./proc.js";
import { FAULT_KINDS } from "./registry.js";

export type CleanupAction =
  | "reverted" // an active fault, reverted from its journaled state
  | "undone-pending" // inject never returned: whatever it may have done was undone
  | "carrier-gone" // what carried the fault (proxy, container, process) is gone: nothing in effect
  | "skipped-live" // the harness that wrote it is still running (use force)
  | "failed" // revert threw: the entry stays for the next run of cleanup
  | "unreadable"; // the journal file could not be parsed: left in place

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
}

async function harnessAlive(e: JournalEntry): Promise<boolean> {
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

/**
 * `faultline cleanup`: reverts every fault a crashed or killed harness left in the journal,
 * from the journal alone (a fresh process knows nothing else). Newest first, the reverse of
 * injection. Running it twice is harmless: reverted entries are gone, and reverts are idempotent.
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
  return { journalDir: opts.journalDir, items };
}
