import { appendFile, chmod, lstat, mkdir, readFile, readdir, readlink, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * What an ipc-corruption occurrence changed, one JSON line per change, appended BEFORE the
 * change is made (like the journal). Revert and `faultline cleanup` undo it from this file
 * alone. It lives beside the spool, outside the directories the service reads:
 * `<stateDir>/.faultline-faults/<occurrenceId>/manifest.jsonl`. Appends are not fsynced: the
 * page cache outlives a killed harness, which is the crash this guards against.
 */
export type ManifestLine =
  | { readonly op: "planted"; readonly path: string }
  | { readonly op: "chmod"; readonly path: string; readonly mode: number }
  | { readonly op: "loop"; readonly path: string; readonly backup: string }
  /** The loop exists: from now on a missing path means the service took it, not a crash. */
  | { readonly op: "loop-made"; readonly path: string };

export const faultsDirOf = (stateDir: string, occurrenceId: string): string =>
  join(stateDir, ".faultline-faults", occurrenceId);

export class IpcManifest {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, "manifest.jsonl");
  }

  async record(line: ManifestLine): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
  }

  async lines(): Promise<ManifestLine[]> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch {
      return [];
    }
    // A line cut by a crash mid-append is skipped: its change had not been made yet.
    return text
      .split("\n")
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ManifestLine];
        } catch {
          return [];
        }
      });
  }

  /** Undoes every recorded change, newest first, then removes the manifest directory. */
  async undoAll(quarantineDir: string): Promise<void> {
    const lines = await this.lines();
    const made = new Set(lines.flatMap((l) => (l.op === "loop-made" ? [l.path] : [])));
    for (const line of lines.reverse()) await undo(line, quarantineDir, made);
    await rm(this.dir, { recursive: true, force: true });
  }
}

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

/** The service quarantines a bad file as `<time>-<kind>--<name>`: find where ours went. */
async function quarantinedCopies(quarantineDir: string, name: string): Promise<string[]> {
  const names = await readdir(quarantineDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(`--${name}`)).map((n) => join(quarantineDir, n));
}

/** Our loop is a symlink whose target is the frame's own name (a loop while it keeps that name). */
const isOurLink = async (p: string, frameName: string): Promise<boolean> =>
  (await readlink(p).catch(() => null)) === frameName;
const isSelfLoop = (p: string): Promise<boolean> => isOurLink(p, basename(p));

async function undo(
  line: ManifestLine,
  quarantineDir: string,
  loopsMade: ReadonlySet<string>,
): Promise<void> {
  switch (line.op) {
    case "planted":
      // Planted files the service already consumed or quarantined are its own record now.
      await rm(line.path, { force: true });
      return;
    case "chmod":
      for (const p of [line.path, ...(await quarantinedCopies(quarantineDir, basename(line.path)))]) {
        await chmod(p, line.mode).catch(() => undefined);
      }
      return;
    case "loop":
      return undoLoop(line, quarantineDir, loopsMade.has(line.path));
    case "loop-made":
      return;
    default: {
      const never: never = line;
      throw new Error(`unknown manifest line ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The loop stands in for the original frame: if it is still in place, the original goes
 * back; if the service moved or consumed it, the original is dropped (its request has been
 * failed). Only when the loop was never made (a crash right after the move) is the original
 * put back in a path that is empty.
 */
async function undoLoop(
  line: { path: string; backup: string },
  quarantineDir: string,
  made: boolean,
): Promise<void> {
  if (await isSelfLoop(line.path)) {
    await rm(line.path, { force: true });
    if (await exists(line.backup)) await rename(line.backup, line.path);
  } else if (!made && !(await exists(line.path)) && (await exists(line.backup))) {
    // Crashed between moving the original aside and creating the loop: put it back.
    await mkdir(dirname(line.path), { recursive: true });
    await rename(line.backup, line.path);
  }
  for (const q of await quarantinedCopies(quarantineDir, basename(line.path))) {
    if (await isOurLink(q, basename(line.path))) await rm(q, { force: true });
  }
  await rm(line.backup, { force: true });
}
