import { sloKind, type SloScenarioFacts } from "../sla/kinds/index.js";
import { targetKind } from "../targets/kinds.js";
import { checkReferenceOptions } from "../targets/reference/process.js";
import { roleOf, type FaultCatalog } from "./catalog.js";
import { formatDuration } from "./duration.js";
import { issuesFromZod } from "./issues.js";
import { LIMITS } from "./limits.js";
import { expandFaults, planStages, plannedRequestCount, runDurationMs, type PlannedFault } from "./plan.js";
import type { RequestTemplate, Scenario, TargetSpec } from "./schema.js";

/** A semantic problem, located like a schema problem. */
export interface RawIssue {
  readonly path: PropertyKey[];
  readonly message: string;
  readonly hint?: string;
}

/** Which fault targets each kind of scenario target offers. */
export function targetNamesFor(target: TargetSpec): readonly string[] {
  return targetKind(target).faultTargets(target);
}

/**
 * Checks the schema cannot express: timeline fits the run, no forbidden overlap, fault kinds,
 * targets and params known to the registry, SLOs referring to faults that exist.
 */
export function checkSemantics(s: Scenario, catalog: FaultCatalog): RawIssue[] {
  // The size of the work first, computed arithmetically: the checks below expand occurrences.
  const size = checkSize(s);
  if (size.length > 0) return size;
  return [
    ...checkTarget(s),
    ...checkModels(s),
    ...checkLoad(s),
    ...checkFaultKinds(s, catalog),
    ...checkTimeline(s),
    ...checkSlos(s),
    ...checkAborts(s),
    ...checkK6Driver(s),
  ];
}

/**
 * Fault occurrences and planned requests, counted without expanding anything: a small file
 * can ask for millions of either.
 */
function checkSize(s: Scenario): RawIssue[] {
  const issues: RawIssue[] = [];
  const occurrences = s.faults.reduce((sum, f) => sum + (f.repeat?.times ?? 1), 0);
  if (occurrences > LIMITS.occurrences)
    issues.push({
      path: ["faults"],
      message: `${occurrences} fault occurrences (repeats included), more than ${LIMITS.occurrences} (the limit for fault occurrences)`,
      hint: "lower repeat.times or split the scenario",
    });
  const total = runDurationMs(s.load);
  if (total > LIMITS.durationMs)
    issues.push({
      path: ["load", s.load.duration !== undefined ? "duration" : "stages"],
      message: `run of ${formatDuration(total)}, longer than ${formatDuration(LIMITS.durationMs)} (the limit for a run)`,
      hint: "shorten load.duration or the stages",
    });
  else {
    const base = plannedRequestCount(planStages(s.load));
    const peak = Math.max(s.load.rate, ...(s.load.stages ?? []).map((st) => st.rate));
    // A load burst multiplies the rate for its duration: count its extra requests at the peak rate.
    const burst = s.faults.reduce((sum, f) => {
      const m = f.kind === "load-burst" ? (f.params as { multiplier?: unknown }).multiplier : undefined;
      if (typeof m !== "number" || !(m > 1)) return sum;
      return sum + (((m - 1) * peak * (f.duration ?? 0)) / 1000) * (f.repeat?.times ?? 1);
    }, 0);
    const planned = base + burst;
    if (!(planned <= LIMITS.plannedRequests))
      issues.push({
        path: ["load", "rate"],
        message: `about ${Math.round(planned)} requests planned (rate x duration${burst > 0 ? ", load bursts included" : ""}), more than ${LIMITS.plannedRequests} (the limit for planned requests)`,
        hint: "lower load.rate or shorten the run",
      });
  }
  return issues;
}

/**
 * A request template without `model` gets the target's default model where the target tells
 * which it serves (the reference service: its preloaded model); elsewhere it must name one,
 * since there is no model name every server accepts.
 */
function checkModels(s: Scenario): RawIssue[] {
  if (targetKind(s.target).referenceOptions(s.target) !== null) return [];
  return s.load.mix.flatMap((t, i) =>
    t.kind !== "http" && t.model === undefined
      ? [
          {
            path: ["load", "mix", i, "model"],
            message: `missing required field for a ${s.target.kind} target (the model to ask for)`,
            hint: "add model: <a model the service serves> (`GET /v1/models` lists them)",
          },
        ]
      : [],
  );
}

/** The scenario with every template's model filled in (after checkSemantics found no problem). */
export function withDefaultModels(s: Scenario): Scenario {
  const options = targetKind(s.target).referenceOptions(s.target);
  if (options === null) return s;
  const { models, preload } = checkReferenceOptions(options);
  const modelFor = (t: RequestTemplate): string | undefined => {
    const task = t.kind === "embedding" ? "embed" : "generate";
    const preloaded = models.find((m) => m.name === preload && m.task === task);
    return (preloaded ?? models.find((m) => m.task === task))?.name;
  };
  const mix = s.load.mix.map((t) => {
    if (t.kind === "http" || t.model !== undefined) return t;
    const model = modelFor(t);
    return model === undefined ? t : { ...t, model };
  });
  return { ...s, load: { ...s.load, mix } };
}

/** What the built-in generator does and k6 cannot: refused rather than silently dropped. */
function checkK6Driver(s: Scenario): RawIssue[] {
  if (s.load.driver !== "k6") return [];
  const builtin = "or remove load.driver to use the built-in load generator";
  return [
    ...(s.load.arrivals === "poisson"
      ? [
          {
            path: ["load", "arrivals"],
            message: "poisson arrivals are not kept by load.driver: k6 (k6 spaces arrivals evenly)",
            hint: `remove load.arrivals, ${builtin}`,
          },
        ]
      : []),
    ...(s.load.honourRetryAfter
      ? [
          {
            path: ["load", "honourRetryAfter"],
            message: "retries at Retry-After are sent by the built-in generator only",
            hint: `remove load.honourRetryAfter, ${builtin}`,
          },
        ]
      : []),
    ...(s.target.levels !== undefined
      ? [
          {
            path: ["target", "levels"],
            message:
              "a target's own level marking is read by the built-in generator only (the k6 script reads the reference service's header)",
            hint: `remove target.levels, ${builtin}`,
          },
        ]
      : []),
    ...(s.abort.length > 0
      ? [
          {
            path: ["abort"],
            message:
              "abort conditions are not checked under load.driver: k6 (k6's output is read when it exits)",
            hint: `remove abort, ${builtin}`,
          },
        ]
      : []),
  ];
}

/** The live view the abort monitor reads holds the last 10 whole seconds. */
const MAX_ABORT_WINDOW_MS = 9_000;

function checkAborts(s: Scenario): RawIssue[] {
  return s.abort.flatMap((a, i) =>
    a.kind === "availability-below" && (a.over > MAX_ABORT_WINDOW_MS || a.over < 1000)
      ? [
          {
            path: ["abort", i, "over"],
            message: `expected a window from 1s to 9s, found ${formatDuration(a.over)}`,
            hint: "the live view covers the last 10 seconds",
          },
        ]
      : [],
  );
}

function checkTarget(s: Scenario): RawIssue[] {
  return targetKind(s.target).check(s.target);
}

function checkLoad(s: Scenario): RawIssue[] {
  const { load } = s;
  const stagesMs = (load.stages ?? []).reduce((sum, st) => sum + st.duration, 0);
  if (load.duration !== undefined && load.stages !== undefined && load.duration < stagesMs) {
    return [
      {
        path: ["load", "duration"],
        message: `expected at least the stages' total (${formatDuration(stagesMs)}), found ${formatDuration(load.duration)}`,
        hint: "remove load.duration (the stages set the length) or lengthen it; past the stages the last rate holds",
      },
    ];
  }
  if (load.duration === undefined && load.stages === undefined) {
    return [
      {
        path: ["load", "duration"],
        message: "missing required field (the run length)",
        hint: 'add e.g. duration: "20s", or a list of stages',
      },
    ];
  }
  if (runDurationMs(load) <= 0) {
    return [{ path: ["load", "duration"], message: "expected a run longer than 0s, found 0s" }];
  }
  return [];
}

function checkFaultKinds(s: Scenario, catalog: FaultCatalog): RawIssue[] {
  const issues: RawIssue[] = [];
  const offered = targetNamesFor(s.target);
  const seen = new Set<string>();
  s.faults.forEach((f, i) => {
    if (seen.has(f.id))
      issues.push({
        path: ["faults", i, "id"],
        message: `duplicate fault id "${f.id}"`,
        hint: "give each fault a unique id",
      });
    seen.add(f.id);
    const info = Object.hasOwn(catalog, f.kind) ? catalog[f.kind] : undefined;
    if (!info) {
      issues.push({
        path: ["faults", i, "kind"],
        message: `unknown fault kind "${f.kind}"`,
        hint: `one of: ${Object.keys(catalog).sort().join(", ")} (see \`faultline list\`)`,
      });
      return;
    }
    if (!offered.includes(f.target)) {
      issues.push({
        path: ["faults", i, "target"],
        message: `unknown target "${f.target}" for a ${s.target.kind} target`,
        hint:
          roleOf(f.target) === "container" && s.target.kind !== "docker"
            ? "container faults need target.kind: docker"
            : `this target offers: ${offered.join(", ")}`,
      });
    } else if (!(info.targets as readonly string[]).includes(roleOf(f.target))) {
      issues.push({
        path: ["faults", i, "target"],
        message: `fault kind "${f.kind}" cannot aim at "${f.target}"`,
        hint: `it aims at: ${info.targets.join(", ")}`,
      });
    }
    const parsed = info.params.safeParse(f.params);
    if (!parsed.success)
      issues.push(...issuesFromZod(parsed.error.issues, f.params, ["faults", i, "params"]));
    else issues.push(...checkInstant(i, f.duration, info.isInstant(parsed.data as never)));
  });
  return issues;
}

function checkInstant(i: number, duration: number | undefined, instant: boolean): RawIssue[] {
  if (instant && duration !== undefined) {
    return [
      {
        path: ["faults", i, "duration"],
        message: "this fault is instant and takes no duration",
        hint: "remove duration",
      },
    ];
  }
  if (!instant && duration === undefined) {
    return [
      {
        path: ["faults", i, "duration"],
        message: "missing required field (how long the fault holds)",
        hint: 'add e.g. duration: "5s"',
      },
    ];
  }
  if (!instant && duration === 0) {
    return [{ path: ["faults", i, "duration"], message: "expected a duration longer than 0s, found 0s" }];
  }
  return [];
}

function checkTimeline(s: Scenario): RawIssue[] {
  const total = runDurationMs(s.load);
  if (total <= 0) return [];
  const issues: RawIssue[] = [];
  s.faults.forEach((f, i) => {
    if (f.repeat && f.duration !== undefined && f.repeat.every < f.duration) {
      issues.push({
        path: ["faults", i, "repeat", "every"],
        message: `expected at least the fault's duration (${formatDuration(f.duration)}), found ${formatDuration(f.repeat.every)}`,
        hint: "occurrences of one fault may not overlap",
      });
    }
    const last = f.at + ((f.repeat?.times ?? 1) - 1) * (f.repeat?.every ?? 0) + (f.duration ?? 0);
    if (f.at >= total || last > total) {
      const field = f.at >= total ? "at" : f.repeat ? "repeat" : "duration";
      issues.push({
        path: ["faults", i, field],
        message: `fault runs until ${formatDuration(last)}, after the run ends at ${formatDuration(total)}`,
        hint: "start it earlier, shorten it, or lengthen load.duration",
      });
    }
  });
  return [...issues, ...checkOverlaps(s)];
}

/** Two occurrences of the same kind on the same target at once cannot be reverted independently. */
function checkOverlaps(s: Scenario): RawIssue[] {
  const occ = expandFaults(s.faults);
  const issues: RawIssue[] = [];
  const reported = new Set<string>();
  for (let a = 0; a < occ.length; a++) {
    for (let b = a + 1; b < occ.length; b++) {
      const x = occ[a];
      const y = occ[b];
      if (x.specId === y.specId || x.kind !== y.kind || x.target !== y.target || !overlaps(x, y)) continue;
      const key = `${x.specId}|${y.specId}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const index = s.faults.findIndex((f) => f.id === y.specId);
      issues.push({
        path: ["faults", index, "at"],
        message: `fault "${y.specId}" overlaps "${x.specId}" (same kind "${x.kind}" on the same target "${x.target}")`,
        hint: "start it after the other one ends, or merge the two",
      });
    }
  }
  return issues;
}

/** Windows are half-open [start, end); an instant fault is a point. Touching windows do not overlap. */
function overlaps(x: PlannedFault, y: PlannedFault): boolean {
  if (x.endMs === null && y.endMs === null) return x.startMs === y.startMs;
  if (x.endMs === null) return y.startMs <= x.startMs && x.startMs < (y.endMs ?? 0);
  if (y.endMs === null) return x.startMs <= y.startMs && y.startMs < x.endMs;
  return x.startMs < y.endMs && y.startMs < x.endMs;
}

function checkSlos(s: Scenario): RawIssue[] {
  const issues: RawIssue[] = [];
  if (s.slos.length === 0) {
    issues.push({
      path: ["slos"],
      message: "expected at least one SLO, found none",
      hint: "add one, e.g. `- { kind: availability, min: 0.999 }`",
    });
  }
  const facts: SloScenarioFacts = {
    faultIds: new Set(s.faults.map((f) => f.id)),
    faultKinds: new Set(s.faults.map((f) => f.kind)),
    honourRetryAfter: s.load.honourRetryAfter,
    receivesAlerts: s.alerts !== undefined,
  };
  const ids = new Set<string>();
  s.slos.forEach((slo, i) => {
    if (slo.id !== undefined) {
      if (ids.has(slo.id)) issues.push({ path: ["slos", i, "id"], message: `duplicate SLO id "${slo.id}"` });
      ids.add(slo.id);
    }
    issues.push(...sloKind(slo).check(slo, i, facts));
  });
  return [...issues, ...checkAlerts(s)];
}

/** The receiver's URL reaches the reference and command targets; not a container's network. */
function checkAlerts(s: Scenario): RawIssue[] {
  if (s.alerts === undefined) return [];
  if (s.target.kind === "docker")
    return [
      {
        path: ["alerts"],
        message:
          "the alert receiver listens on the host's loopback, which containers of a docker target do not reach",
        hint: "remove alerts, or use a reference, command or url target",
      },
    ];
  const options = s.target.kind === "reference" ? s.target.options : {};
  const set = (options.alerts as Record<string, unknown> | undefined)?.webhookUrl;
  if (set !== undefined && set !== null)
    return [
      {
        path: ["target", "options", "alerts", "webhookUrl"],
        message:
          "the scenario's alerts section gives the reference service the run receiver's URL; a webhookUrl of its own would be overwritten",
        hint: "remove target.options.alerts.webhookUrl, or remove the scenario's alerts section",
      },
    ];
  return [];
}
