import type { InputIssue } from "../../common/errors.js";
import type { AnyInjector } from "./injector.js";
import { FAULT_KINDS } from "./registry.js";

/** One fault of a timeline, times in ms from the start of the run. */
export interface TimelineFault {
  readonly id: string;
  readonly kind: string;
  readonly target: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly startMs: number;
  /** null: instant (a kill), or held until the end of the run. */
  readonly durationMs: number | null;
  /** Further occurrences: `times` in all (including the first), `everyMs` apart. */
  readonly repeat?: { readonly everyMs: number; readonly times: number };
}

/** "link:client-api" -> "link", "api#2" -> "api". */
export const roleOfTarget = (target: string): string => target.split(/[:#]/)[0] ?? target;

const join = (prefix: string, path: string): string => (prefix ? `${prefix}.${path}` : path);

function timingIssues(spec: TimelineFault, at: (p: string) => string): InputIssue[] {
  const issues: InputIssue[] = [];
  if (!Number.isFinite(spec.startMs) || spec.startMs < 0) {
    issues.push({ path: at("startMs"), message: `must be a time >= 0, got ${spec.startMs}` });
  }
  if (spec.durationMs !== null && (!Number.isFinite(spec.durationMs) || spec.durationMs <= 0)) {
    issues.push({
      path: at("durationMs"),
      message: `must be a positive duration, got ${spec.durationMs}`,
      hint: "omit the duration for an instant fault",
    });
  }
  const r = spec.repeat;
  if (r && (!Number.isInteger(r.times) || r.times < 1)) {
    issues.push({ path: at("repeat.times"), message: `must be a whole number >= 1, got ${r.times}` });
  }
  if (r && (!Number.isFinite(r.everyMs) || r.everyMs <= 0 || r.everyMs < (spec.durationMs ?? 0))) {
    issues.push({
      path: at("repeat.everyMs"),
      message: `must be positive and at least the duration (${spec.durationMs ?? 0} ms), got ${r.everyMs}`,
      hint: "occurrences of one fault must not overlap",
    });
  }
  return issues;
}

function targetIssues(
  injector: AnyInjector,
  spec: TimelineFault,
  known: readonly string[],
  at: (p: string) => string,
): InputIssue[] {
  if (!known.includes(spec.target)) {
    return [
      {
        path: at("target"),
        message: `unknown target "${spec.target}"`,
        hint: `one of: ${known.join(", ") || "(none)"}`,
      },
    ];
  }
  const role = roleOfTarget(spec.target);
  if (!(injector.targets as readonly string[]).includes(role)) {
    return [
      {
        path: at("target"),
        message: `${injector.kind} cannot aim at "${spec.target}"`,
        hint: `it aims at: ${injector.targets.join(", ")}`,
      },
    ];
  }
  return [];
}

/**
 * Everything wrong with one fault, each issue naming its field (`kind`, `target`,
 * `durationMs`, `params.latency`, ...) under `pathPrefix` (e.g. `faults[2]`). Empty = valid.
 */
export function validateFault(
  spec: TimelineFault,
  knownTargets: readonly string[],
  pathPrefix = "",
  registry: Readonly<Record<string, AnyInjector>> = FAULT_KINDS,
): InputIssue[] {
  const at = (p: string): string => join(pathPrefix, p);
  const issues = timingIssues(spec, at);
  const injector = Object.hasOwn(registry, spec.kind) ? registry[spec.kind] : undefined;
  if (!injector) {
    issues.push({
      path: at("kind"),
      message: `unknown fault kind "${spec.kind}"`,
      hint: `one of: ${Object.keys(registry).join(", ")}`,
    });
    return issues;
  }
  issues.push(...targetIssues(injector, spec, knownTargets, at));
  const parsed = injector.params.safeParse(spec.params);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const sub = i.path.map(String).join(".");
      issues.push({ path: at(sub ? `params.${sub}` : "params"), message: i.message });
    }
  }
  return issues;
}
