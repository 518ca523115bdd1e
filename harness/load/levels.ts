import { FULL_SERVICE_LEVEL, SERVICE_LEVEL_BODY_FIELD, SERVICE_LEVEL_HEADER } from "../targets/protocol.js";

/**
 * How a target marks the level it served an answer at (scenario `target.levels`): a response
 * header, a JSON field in the body (each chunk, for a stream), or both, and which marker
 * values mean "below full service". Without a marking, the target protocol's default
 * (targets/protocol.ts, which the reference service implements): the
 * `x-faultline-service-level` header, and in a stream the `faultline.service_level` field of
 * a chunk (a stream continued on a fallback after its headers can say so only there); a
 * value other than `full` is below full. An answer without a marker is at full service.
 */
export interface LevelMarkingSpec {
  readonly header?: string | undefined;
  readonly jsonField?: string | undefined;
  /** Marker values that mean full service; any other value is below full. */
  readonly full?: readonly string[] | undefined;
  /** Marker values that mean below full; any other value (or none) is full. Excludes `full`. */
  readonly degraded?: readonly string[] | undefined;
}

export interface LevelMarking {
  /** Lower-case header name, or null when the level is not in a header. */
  readonly header: string | null;
  /** Path of the JSON field (split on "."), or null when the level is not in the body. */
  readonly jsonPath: readonly string[] | null;
  /** Whether the non-stream JSON body is read for the field (streams read each chunk). */
  readonly readsBody: boolean;
  readonly belowFull: (value: string) => boolean;
}

/** The protocol's marking, applied to any target whose scenario names none. */
export const DEFAULT_MARKING: LevelMarking = {
  header: SERVICE_LEVEL_HEADER,
  jsonPath: [SERVICE_LEVEL_BODY_FIELD, "service_level"],
  // The protocol marks non-stream answers in the header; its body field matters only in a
  // stream, so a non-stream body is not parsed for it (no cost on the hot path).
  readsBody: false,
  belowFull: (v) => v !== FULL_SERVICE_LEVEL,
};

export function levelMarking(spec: LevelMarkingSpec | undefined): LevelMarking {
  if (spec === undefined || (spec.header === undefined && spec.jsonField === undefined))
    return spec?.full === undefined && spec?.degraded === undefined
      ? DEFAULT_MARKING
      : { ...DEFAULT_MARKING, belowFull: belowFullOf(spec) };
  return {
    header: spec.header?.toLowerCase() ?? null,
    jsonPath: spec.jsonField === undefined ? null : spec.jsonField.split("."),
    readsBody: spec.jsonField !== undefined,
    belowFull: belowFullOf(spec),
  };
}

function belowFullOf(spec: LevelMarkingSpec): (value: string) => boolean {
  if (spec.degraded !== undefined) {
    const below = new Set(spec.degraded);
    return (v) => below.has(v);
  }
  const full = new Set(spec.full ?? [FULL_SERVICE_LEVEL]);
  return (v) => !full.has(v);
}

/** The marker at `path` in a parsed JSON value: a string, number or boolean as text; else undefined. */
export function jsonLevel(value: unknown, path: readonly string[]): string | undefined {
  let v: unknown = value;
  for (const key of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/** Worse levels rank higher: a stream is as degraded as its worst chunk (unknown below-full values rank 1). */
const LEVEL_RANK: Readonly<Record<string, number>> = { degraded: 1, minimal: 2 };
export const levelRank = (level: string | undefined): number =>
  level === undefined ? 0 : (LEVEL_RANK[level] ?? 1);
