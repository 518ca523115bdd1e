import type { z } from "zod";
import type { LiveFacts } from "../../dashboard/live-standing.js";
import type { SloStanding } from "../../dashboard/types.js";
import type { ThresholdEntry } from "../../k6/threshold-entry.js";
import type { RawIssue } from "../../scenario/semantic.js";
import type { MonthlyProjection } from "../projection.js";
import type { SloData, SloContext } from "../slo.js";
import type { SloVerdict } from "../verdict.js";

/** Keys a scenario may leave out (optional or defaulted in the schema's input form). */
type OmittableKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? K : never }[keyof T];

type Flat<T> = { readonly [K in keyof T]: T[K] };

/**
 * An SLO as the engine takes it: the parsed form (durations in ms), with every field the
 * scenario may omit optional, so code built outside a scenario file (tests, tools) may leave
 * defaults out; whoever reads such a field applies the schema's default.
 */
export type SpecOf<S extends z.ZodType> = Flat<
  Omit<z.output<S>, OmittableKeys<z.input<S>>> &
    Partial<Pick<z.output<S>, OmittableKeys<z.input<S>> & keyof z.output<S>>>
>;

/** What evaluation sees: the run's context with its aggregates at hand. */
export type SloEvalContext = SloContext & { readonly data: SloData };

export interface SloResult {
  readonly verdicts: readonly SloVerdict[];
  /** Only projected-monthly-availability: the projection its verdict was judged on. */
  readonly projection?: MonthlyProjection;
}

/** What a scenario offers an SLO, for the checks the schema cannot express. */
export interface SloScenarioFacts {
  readonly faultIds: ReadonlySet<string>;
  /** Kinds of the scenario's faults. */
  readonly faultKinds: ReadonlySet<string>;
  /** load.honourRetryAfter: the load retries shed answers at their Retry-After. */
  readonly honourRetryAfter: boolean;
  /** The scenario has an `alerts` section (a receiver runs). */
  readonly receivesAlerts: boolean;
}

/** What the harness does for one SLO kind, for specs of type `Spec`. */
export interface SloBehaviour<Spec> {
  /** The scenario's `kind` value. */
  readonly kind: string;
  /** Verdicts (one, or one per fault) with their description text, from the run's data. */
  readonly evaluate: (spec: Spec, id: string, ctx: SloEvalContext) => SloResult;
  /** Problems the schema cannot express (a missing fault, a load that cannot exercise it), located from slos[i]. */
  readonly check: (spec: Spec, index: number, scenario: SloScenarioFacts) => RawIssue[];
  /**
   * The SLO as k6 thresholds of an exported script; `name` is how notes refer to it. A kind k6
   * cannot judge returns one note saying why (faultline evaluates it when it drives k6).
   */
  readonly k6Thresholds: (spec: Spec, name: string) => readonly ThresholdEntry[];
  /** Where it stands during the run, from the dashboard's live counters ("judged at end" if it cannot tell). */
  readonly standing: (spec: Spec, id: string, live: LiveFacts) => SloStanding;
}

/**
 * One SLO kind (scenario `slos[].kind`): everything the harness does per kind, in one row of
 * SLO_KINDS (index.ts). Adding a kind is a file exporting its row and the row in the table.
 */
export interface SloKind<S extends z.ZodType<{ readonly kind: string }>> extends SloBehaviour<SpecOf<S>> {
  readonly kind: z.output<S>["kind"];
  /** Strict zod schema of the scenario entry (input: durations as text); builds the JSON Schema. */
  readonly schema: S;
}

/** Types a kind's row from its schema (so its functions' parameters need no annotations). */
export function defineSloKind<S extends z.ZodType<{ readonly kind: string }>>(row: SloKind<S>): SloKind<S> {
  return row;
}
