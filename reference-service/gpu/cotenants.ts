import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

/** One external reservation file (contract.ts: gpu/cotenants/*.json). */
export const cotenantSchema = z.object({
  bytes: z.number().int().nonnegative(),
  owner: z.string().optional(),
  createdAt: z.string().optional(),
});

export interface CotenantReading {
  readonly bytes: number;
  /** Files that could not be read or parsed: ignored, named so the worker can log them. */
  readonly invalid: readonly string[];
}

/**
 * Sums the co-tenant reservations in `dir`. A missing directory means no co-tenants; a file
 * that is being written or is malformed is skipped (it will be read again next heartbeat).
 */
export async function readCotenants(dir: string): Promise<CotenantReading> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { bytes: 0, invalid: [] };
  }
  let bytes = 0;
  const invalid: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith("."))) {
    try {
      const parsed = cotenantSchema.safeParse(JSON.parse(await readFile(join(dir, name), "utf8")));
      if (parsed.success) bytes += parsed.data.bytes;
      else invalid.push(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") invalid.push(name);
    }
  }
  return { bytes, invalid };
}
