import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FaultContext, JsonValue } from "../../faults/injector.js";

/**
 * The revert state of a container fault, written *before* the fault acts and removed after
 * revert. The journal only learns the state once inject returns; if the harness dies in
 * between (pause sent, limit lowered), `revertPending` reads the stash by occurrence id, so
 * even a half-done inject can be undone with the original settings.
 */
export function stashDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env["FAULTLINE_DOCKER_STASH_DIR"] ?? join(tmpdir(), "faultline-docker-stash");
}

export function occurrenceIdOf(ctx: FaultContext): string {
  return ctx.occurrenceId ?? `docker-${randomUUID()}`;
}

const fileOf = (id: string): string => join(stashDir(), `${id.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);

export async function writeStash(occurrenceId: string, state: JsonValue): Promise<void> {
  await mkdir(stashDir(), { recursive: true });
  const tmp = `${fileOf(occurrenceId)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, fileOf(occurrenceId));
}

export async function readStash<T extends JsonValue>(occurrenceId: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(fileOf(occurrenceId), "utf8")) as T;
  } catch {
    return null;
  }
}

export async function removeStash(occurrenceId: string): Promise<void> {
  await rm(fileOf(occurrenceId), { force: true });
}
