import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { fsyncDir, writeFileAtomic } from "./atomic-file.js";
import type { JsonValue, PendingContext } from "./injector.js";
import { OCCURRENCE_ID_PATTERN } from "./occurrence.js";
import { readJsonEntries, type EntryRead } from "./json-entries.js";
import { readProcStat } from "./proc.js";
import { STARTED_PREFIX } from "./started.js";

/**
 * The rollback journal: one JSON file per active fault occurrence, `<occurrenceId>.json`.
 * Lifecycle: `begin` writes a "pending" entry BEFORE inject runs; `activate` adds the revert
 * state when inject returns; `remove` deletes the file after revert succeeded. Every write is
 * tmp + fsync + rename + fsync(dir), so a crash leaves either the old or the new entry.
 */
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

export const journalEntrySchema = z.strictObject({
  version: z.literal(1),
  occurrenceId: z.string().regex(OCCURRENCE_ID_PATTERN),
  /** The scenario's fault id (several occurrences when it repeats, or "manual"). */
  faultId: z.string(),
  kind: z.string(),
  target: z.string(),
  params: jsonValue,
  phase: z.enum(["pending", "active"]),
  revertState: jsonValue,
  context: z.strictObject({
    occurrenceId: z.string(),
    targetName: z.string(),
    stateDir: z.string().nullable(),
    toxiproxy: z.strictObject({ url: z.string(), links: z.record(z.string(), z.string()) }).nullable(),
    pids: z.strictObject({
      api: z.number().int().optional(),
      worker: z.number().int().optional(),
      command: z.number().int().optional(),
    }),
  }),
  /** Pid of the harness that wrote it (cleanup reports it; a live one is still running). */
  harnessPid: z.number().int(),
  /** Its /proc start time, so a recycled pid is not taken for a live harness. */
  harnessStartTime: z.number().nullable(),
  createdAtMs: z.number(),
  injectedAtMs: z.number().nullable(),
});
export type JournalEntry = z.infer<typeof journalEntrySchema>;

export interface BeginEntry {
  readonly occurrenceId: string;
  readonly faultId: string;
  readonly kind: string;
  readonly target: string;
  readonly params: JsonValue;
  readonly context: PendingContext;
  readonly createdAtMs: number;
}

export type JournalRead = EntryRead<JournalEntry>;

export class FaultJournal {
  constructor(readonly dir: string) {}

  private fileOf(occurrenceId: string): string {
    if (!OCCURRENCE_ID_PATTERN.test(occurrenceId)) throw new Error(`bad occurrence id "${occurrenceId}"`);
    return join(this.dir, `${occurrenceId}.json`);
  }

  async begin(b: BeginEntry): Promise<JournalEntry> {
    await mkdir(this.dir, { recursive: true });
    const entry: JournalEntry = {
      version: 1,
      ...b,
      context: { ...b.context, pids: { ...b.context.pids } },
      phase: "pending",
      revertState: null,
      harnessPid: process.pid,
      harnessStartTime: (await readProcStat(process.pid))?.startTime ?? null,
      injectedAtMs: null,
    };
    await this.write(entry);
    return entry;
  }

  async activate(entry: JournalEntry, revertState: JsonValue, injectedAtMs: number): Promise<JournalEntry> {
    const next: JournalEntry = { ...entry, phase: "active", revertState, injectedAtMs };
    await this.write(next);
    return next;
  }

  async remove(occurrenceId: string): Promise<void> {
    await rm(this.fileOf(occurrenceId), { force: true });
    await fsyncDir(this.dir).catch(() => undefined);
  }

  /** Every entry, oldest first; unparsable files are reported, never thrown. */
  list(): Promise<JournalRead[]> {
    return readJsonEntries(this.dir, (n) => !n.startsWith(STARTED_PREFIX), journalEntrySchema);
  }

  private write(entry: JournalEntry): Promise<void> {
    return writeFileAtomic(this.fileOf(entry.occurrenceId), `${JSON.stringify(entry, null, 2)}\n`);
  }
}
