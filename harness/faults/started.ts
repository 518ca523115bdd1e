import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { fsyncDir, writeFileAtomic } from "./atomic-file.js";
import { readJsonEntries, type EntryRead } from "./json-entries.js";
import { readProcStat } from "./proc.js";

/**
 * The journal of what a run started (target processes, HAProxy, containers), kept in the
 * fault journal's directory as `started@<id>.json`, one file per resource ("@" never occurs
 * in an occurrence id, so the fault journal tells them apart). A run writes an entry as
 * soon as the resource exists and deletes it when the run stopped it; what is left belongs
 * to a harness that died, and `faultline cleanup` stops it from the entry alone. Faults and
 * started resources share one journal directory so one command (and one FAULTLINE_JOURNAL_DIR)
 * undoes everything a killed run left behind.
 */
const resourceSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("process"),
    pid: z.number().int(),
    /** /proc start time: a recycled pid is never taken for the process that was started. */
    startTime: z.number(),
    /** Its process group when it leads one (started detached): cleanup stops the whole group. */
    pgid: z.number().int().nullable(),
  }),
  z.strictObject({
    type: z.literal("file"),
    /** A file the run writes and removes itself when it ends (the requests spill). */
    path: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal("docker-run"),
    /** The run label every container and network of the run carries. */
    runId: z.string(),
  }),
]);
export type StartedResource = z.infer<typeof resourceSchema>;

export const startedEntrySchema = z.strictObject({
  version: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9-]{1,80}$/),
  /** What it is, for people: "haproxy", "reference api#1", "command target ./serve". */
  what: z.string(),
  resource: resourceSchema,
  harnessPid: z.number().int(),
  harnessStartTime: z.number().nullable(),
  createdAtMs: z.number(),
});
export type StartedEntry = z.infer<typeof startedEntrySchema>;

/** The file name prefix of a started entry in the journal directory. */
export const STARTED_PREFIX = "started@";

export type StartedRead = EntryRead<StartedEntry>;

/** What a run holds for one started resource: forget it once the run itself stopped it. */
export interface StartedMark {
  forget(): Promise<void>;
}

export class StartedJournal {
  constructor(readonly dir: string) {}

  async record(what: string, resource: StartedResource): Promise<StartedMark> {
    await mkdir(this.dir, { recursive: true });
    const id = randomUUID();
    const entry: StartedEntry = {
      version: 1,
      id,
      what,
      resource,
      harnessPid: process.pid,
      harnessStartTime: (await readProcStat(process.pid))?.startTime ?? null,
      createdAtMs: Date.now(),
    };
    const file = join(this.dir, `${STARTED_PREFIX}${id}.json`);
    await writeFileAtomic(file, `${JSON.stringify(entry, null, 2)}\n`);
    return { forget: () => this.remove(file) };
  }

  /**
   * Records a process the run just spawned (its pid and /proc start time). A process that is
   * already gone is not recorded: there is nothing to stop.
   */
  async recordProcess(what: string, pid: number, leadsGroup: boolean): Promise<StartedMark> {
    const stat = await readProcStat(pid);
    if (stat === null) return { forget: () => Promise.resolve() };
    return this.record(what, {
      type: "process",
      pid,
      startTime: stat.startTime,
      pgid: leadsGroup ? stat.pgid : null,
    });
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
    await fsyncDir(this.dir).catch(() => undefined);
  }

  /** Every entry, oldest first; unparsable files are reported, never thrown. */
  list(): Promise<StartedRead[]> {
    return readJsonEntries(this.dir, (n) => n.startsWith(STARTED_PREFIX), startedEntrySchema);
  }
}

/**
 * Records a child the run just spawned; null when there is no journal or the child never got
 * a pid (its spawn failed: nothing to stop). Never rejects: a journal that cannot be written
 * must not fail the run (the process still exits with the harness, see parent-death.ts).
 */
export async function recordChild(
  journal: StartedJournal | undefined,
  what: string,
  child: { readonly pid?: number | undefined },
  leadsGroup: boolean,
): Promise<StartedMark | null> {
  if (journal === undefined || child.pid === undefined) return null;
  return journal.recordProcess(what, child.pid, leadsGroup).catch(() => null);
}
