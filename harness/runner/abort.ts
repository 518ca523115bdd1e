import type { Clock, TimerHandle } from "../../common/clock.js";
import { isGood, OUTCOMES, type OutcomeCounts } from "../../common/outcome.js";
import type { SecondCounts } from "../load/index.js";
import { formatDuration } from "../scenario/duration.js";
import type { AbortSpec } from "../scenario/schema.js";

export interface AbortView {
  readonly elapsedMs: number;
  readonly totals: OutcomeCounts;
  /** Whole seconds by completion time, oldest first (the load's live view). */
  readonly lastSeconds: readonly SecondCounts[];
}

const good = (c: OutcomeCounts, dg: boolean): number =>
  OUTCOMES.reduce((s, o) => s + (isGood(o, dg) ? c[o] : 0), 0);
const all = (c: OutcomeCounts): number => OUTCOMES.reduce((s, o) => s + c[o], 0);

/**
 * Whether an abort condition holds now; the reason names the condition and the numbers. Pure:
 * the monitor feeds it the load's live snapshot on its own period.
 *
 * - error-budget-spent: bad answers so far exceed (1 - target) x the requests the plan will send.
 * - availability-below: over the last `over` (whole seconds of completions, the current partial
 *   second excluded), good / all < min; not judged before `over` has elapsed or with no answers.
 */
export function abortReason(
  conditions: readonly AbortSpec[],
  view: AbortView,
  plannedRequests: number,
): string | null {
  for (const c of conditions) {
    switch (c.kind) {
      case "error-budget-spent": {
        const budget = (1 - c.target) * plannedRequests;
        const bad = all(view.totals) - good(view.totals, true);
        if (bad > budget)
          return `error budget spent: ${bad} bad answers > budget ${+budget.toFixed(2)} (${c.target * 100}% of ${plannedRequests})`;
        break;
      }
      case "availability-below": {
        const seconds = Math.ceil(c.over / 1000);
        if (view.elapsedMs < c.over + 1000) break;
        const current = Math.floor(view.elapsedMs / 1000);
        const window = view.lastSeconds.filter((s) => s.second < current && s.second >= current - seconds);
        const total = window.reduce((s, w) => s + all(w.counts), 0);
        const ok = window.reduce((s, w) => s + good(w.counts, c.degradedCountsAsGood), 0);
        if (total > 0 && ok / total < c.min) {
          return `availability ${((ok / total) * 100).toFixed(2)}% over the last ${formatDuration(seconds * 1000)} < ${c.min * 100}%`;
        }
        break;
      }
      default: {
        const never: never = c;
        return never;
      }
    }
  }
  return null;
}

/** Polls `abortReason` every `periodMs` on the clock; fires `onAbort` once. */
export class AbortMonitor {
  private timer: TimerHandle | undefined;
  private fired = false;

  constructor(
    private readonly opts: {
      readonly conditions: readonly AbortSpec[];
      readonly plannedRequests: number;
      readonly clock: Clock;
      readonly periodMs: number;
      readonly view: () => AbortView;
      readonly onAbort: (reason: string) => void;
    },
  ) {}

  start(): void {
    if (this.opts.conditions.length === 0) return;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.opts.periodMs);
  }

  private tick(): void {
    const reason = abortReason(this.opts.conditions, this.opts.view(), this.opts.plannedRequests);
    if (reason !== null) {
      this.fired = true;
      this.opts.onAbort(reason);
      return;
    }
    if (!this.fired) this.timer = this.opts.clock.setTimeout(() => this.tick(), this.opts.periodMs);
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.timer);
  }
}
