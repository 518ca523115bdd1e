import { z } from "zod";
import { alertSlo } from "./alert.js";
import { availabilitySlo } from "./availability.js";
import { errorBudgetBurnSlo } from "./error-budget-burn.js";
import type { SloBehaviour, SpecOf } from "./kind.js";
import { latencySlo } from "./latency.js";
import { notificationLatencySlo } from "./notification-latency.js";
import { projectedMonthlyAvailabilitySlo } from "./projected-monthly-availability.js";
import { retryAfterSlo } from "./retry-after.js";
import { timeToDetectSlo } from "./time-to-detect.js";
import { timeToRecoverSlo } from "./time-to-recover.js";
import { uptimeSlo } from "./uptime.js";

export type { SloBehaviour, SloEvalContext, SloKind, SloResult, SloScenarioFacts, SpecOf } from "./kind.js";

/**
 * Every SLO kind and what the harness does for it: the one place that tells SLO kinds apart
 * (scenario schema and checks, evaluation, k6 thresholds, live standing). The order is the
 * order of `slos` entries in the JSON Schema.
 */
export const SLO_KINDS = [
  alertSlo,
  availabilitySlo,
  uptimeSlo,
  latencySlo,
  timeToDetectSlo,
  timeToRecoverSlo,
  errorBudgetBurnSlo,
  projectedMonthlyAvailabilitySlo,
  retryAfterSlo,
  notificationLatencySlo,
] as const;

type Rows = typeof SLO_KINDS;
type SpecOfRow<R> = R extends { readonly schema: infer S extends z.ZodType<{ readonly kind: string }> }
  ? SpecOf<S>
  : never;

/**
 * An SLO as the engine, the checks, k6 and the dashboard take it: the parsed scenario entry,
 * with the fields a scenario may omit optional (readers apply the schema's defaults).
 */
export type SloSpec = SpecOfRow<Rows[number]>;
export type SloKindName = SloSpec["kind"];

/** The rows' schemas as a tuple (a mapped type keeps a tuple only over a type parameter). */
type SchemasOf<T extends readonly unknown[]> = {
  -readonly [I in keyof T]: T[I] extends { readonly schema: infer S } ? S : never;
};
type Schemas = SchemasOf<Rows>;

/** The scenario's `slos[]` entry: one of the kinds' schemas, told apart by `kind`. */
export const sloSchema = z.discriminatedUnion(
  "kind",
  // map() forgets the tuple's element types; Schemas restores them, in the same order.
  SLO_KINDS.map((row) => row.schema) as unknown as Schemas,
);

const BY_KIND: ReadonlyMap<string, SloBehaviour<never>> = new Map(SLO_KINDS.map((row) => [row.kind, row]));

/** The row for a spec's kind, typed for that spec. */
export function sloKind<S extends SloSpec>(spec: S): SloBehaviour<S> {
  const row = BY_KIND.get(spec.kind);
  if (row === undefined) throw new Error(`unknown SLO kind ${spec.kind}`);
  // TypeScript cannot correlate spec.kind with the row it selects across the union; each row's
  // `kind` is typed as its own schema's literal, so the row found takes this spec.
  return row as unknown as SloBehaviour<S>;
}
