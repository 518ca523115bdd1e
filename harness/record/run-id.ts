/**
 * Run ids: UTC timestamp to the second, then the scenario name as a slug, e.g.
 * `20261123T171553Z-kill-worker`. They sort by time, are safe as directory names on every
 * platform, and say what ran. Two runs of one scenario in the same second get `-2`, `-3`, ...
 * from the caller (see uniqueRunId).
 */
export function runId(startedAtMs: number, scenarioName: string): string {
  const iso = new Date(startedAtMs).toISOString(); // 2026-11-23T17:15:53.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${stamp}-${slug(scenarioName)}`;
}

export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  return s.length > 0 ? s : "run";
}

/** `id`, or `id-2`, `id-3`, ... whichever `taken` does not contain. */
export function uniqueRunId(id: string, taken: (candidate: string) => boolean): string {
  if (!taken(id)) return id;
  for (let n = 2; ; n++) {
    const candidate = `${id}-${n}`;
    if (!taken(candidate)) return candidate;
  }
}
