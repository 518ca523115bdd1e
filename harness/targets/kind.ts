import type { RawIssue } from "../scenario/semantic.js";
import type { RunningTarget, TargetContext } from "./target.js";

/**
 * One target kind (scenario `target.kind`): everything the harness does differently per kind,
 * in one row of TARGET_KINDS (kinds.ts). Adding a kind is its schema entry, a file exporting
 * its row, and the row in the table.
 */
export interface TargetKind<S> {
  /** Starts the target for a run; resolves once it answers (or throws RunNotPossibleError). */
  readonly start: (spec: S, ctx: TargetContext) => Promise<RunningTarget>;
  /** The names its faults can aim at (`faults[].target`), Toxiproxy links included. */
  readonly faultTargets: (spec: S) => readonly string[];
  /** Problems with the spec the schema cannot express, located from the scenario root. */
  readonly check: (spec: S) => RawIssue[];
  /**
   * The reference service options whose model catalogue gives a request template its default
   * model, or null when the target does not tell which models it serves.
   */
  readonly referenceOptions: (spec: S) => Record<string, unknown> | null;
  /**
   * Whether its /metrics is scraped during the run (the breaker gauge for time to detect, series
   * for the report). Only kinds known to serve Prometheus text there say yes.
   */
  readonly servesMetrics: (spec: S) => boolean;
  /** Whether the live dashboard polls its readiness and metrics. */
  readonly dashboardHealth: (spec: S) => boolean;
  /** Base URL an exported k6 script uses when FAULTLINE_BASE_URL is not set. */
  readonly k6BaseUrl: (spec: S) => string;
}
