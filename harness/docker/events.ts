import type Docker from "dockerode";
import { COMPOSE_LABELS, LABELS } from "./labels.js";

/** One container event as the engine streams it (the fields we read). */
export interface EngineEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly time?: number;
  readonly timeNano?: number;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
}

/** The compose service (with its replica number, `api#2`), else the container name, else the short id. */
export function whoOf(e: EngineEvent): string {
  const attrs = e.Actor?.Attributes ?? {};
  const service = attrs[COMPOSE_LABELS.service];
  const replica = attrs[LABELS.replica];
  if (service !== undefined && replica !== undefined) return `${service}#${replica}`;
  return service ?? attrs["name"] ?? (e.Actor?.ID ?? "?").slice(0, 12);
}

/** Container actions logged as they are ("container api: pause"). */
const PLAIN_ACTIONS = new Set(["start", "restart", "pause", "unpause", "stop"]);

/**
 * A line for the run record's event log, or null for events not worth one. OOM kills are
 * named as such: the engine sends `oom` before the `die` of a container the kernel killed.
 */
export function describeEvent(e: EngineEvent, oomKilledBefore = false): string | null {
  const attrs = e.Actor?.Attributes ?? {};
  const who = whoOf(e);
  const action = e.Action ?? "";
  if (action.startsWith("health_status")) return `container ${who}: ${action.replace(": ", " ")}`;
  if (PLAIN_ACTIONS.has(action)) return `container ${who}: ${action}`;
  if (action === "oom")
    return `container ${who}: OOMKilled (the kernel's OOM killer ended a process at the memory limit)`;
  if (action === "die") {
    return `container ${who}: died (exit ${attrs["exitCode"] ?? "?"}${oomKilledBefore ? ", OOMKilled" : ""})`;
  }
  if (action === "kill") return `container ${who}: kill ${attrs["signal"] ?? ""}`.trimEnd();
  return null;
}

/** Splits a chunked JSON-lines stream into objects; partial lines wait for the next chunk. */
export function jsonLines(onObject: (o: EngineEvent) => void): (chunk: Buffer | string) => void {
  let buffer = "";
  return (chunk) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line === "") continue;
      try {
        onObject(JSON.parse(line) as EngineEvent);
      } catch {
        // not JSON: ignore the line, keep the stream
      }
    }
  };
}

/**
 * Follows the engine's container events of one compose project until the returned function
 * is called. Each event worth a line is passed on with its engine time (epoch ms).
 */
export async function watchProjectEvents(
  docker: Docker,
  project: string,
  onEvent: (message: string, atMs: number, e: EngineEvent) => void,
): Promise<() => void> {
  const stream = (await docker.getEvents({
    filters: { type: ["container"], label: [`${COMPOSE_LABELS.project}=${project}`] },
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  const oomed = new Set<string>();
  stream.on(
    "data",
    jsonLines((e) => {
      const id = e.Actor?.ID ?? e.id ?? "";
      if (e.Action === "oom") oomed.add(id);
      const message = describeEvent(e, e.Action === "die" && oomed.delete(id));
      const atMs = e.timeNano !== undefined ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
      if (message !== null) onEvent(message, atMs, e);
    }),
  );
  stream.on("error", () => {});
  return () => stream.destroy?.();
}
