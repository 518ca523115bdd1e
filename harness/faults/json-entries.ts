import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";

/** One journal file read back: its entry, or why it could not be read (never thrown). */
export type EntryRead<T> =
  | { readonly ok: true; readonly file: string; readonly entry: T }
  | { readonly ok: false; readonly file: string; readonly error: string };

/**
 * Reads every `*.json` file of `dir` whose name `keep` accepts, parsed with `schema`, oldest
 * first by `createdAtMs` (unreadable ones first, so they are reported before anything else).
 * A missing directory is an empty journal. Shared by the fault and started-resource journals.
 */
export async function readJsonEntries<T extends { readonly createdAtMs: number }>(
  dir: string,
  keep: (name: string) => boolean,
  schema: z.ZodType<T>,
): Promise<EntryRead<T>[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const reads = await Promise.all(
    names
      .filter((n) => n.endsWith(".json") && !n.startsWith(".tmp-") && keep(n))
      .map(async (n): Promise<EntryRead<T>> => {
        const file = join(dir, n);
        try {
          const parsed = schema.safeParse(JSON.parse(await readFile(file, "utf8")));
          return parsed.success
            ? { ok: true, file, entry: parsed.data }
            : { ok: false, file, error: parsed.error.message };
        } catch (e) {
          return { ok: false, file, error: (e as Error).message };
        }
      }),
  );
  const at = (r: EntryRead<T>): number => (r.ok ? r.entry.createdAtMs : 0);
  return reads.sort((a, b) => at(a) - at(b));
}
