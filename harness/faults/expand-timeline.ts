import type { TimelineFault } from "./validate.js";

/** One occurrence of a scenario fault after `repeat` is expanded. */
export interface ExpandedFault extends TimelineFault {
  /** The scenario fault's own id (`id` gets `#n` appended when it repeats). */
  readonly specId: string;
  /** 1-based occurrence number. */
  readonly occurrence: number;
}

/**
 * Expands `repeat` into occurrences: `times` in all, `everyMs` apart, ordered by start time
 * (ties keep the scenario's order, which is also the order the timeline runs them in). The
 * one expansion: `faultline plan` prints its output and the scheduler runs it.
 */
export function expandTimeline(faults: readonly TimelineFault[]): ExpandedFault[] {
  const out: ExpandedFault[] = [];
  for (const f of faults) {
    const times = f.repeat?.times ?? 1;
    for (let i = 0; i < times; i++) {
      const id = times === 1 ? f.id : `${f.id}#${i + 1}`;
      out.push({
        ...f,
        id,
        specId: f.id,
        occurrence: i + 1,
        startMs: f.startMs + i * (f.repeat?.everyMs ?? 0),
        repeat: undefined,
      });
    }
  }
  // Array.prototype.sort is stable, so equal start times keep the input order.
  return out.sort((a, b) => a.startMs - b.startMs);
}
