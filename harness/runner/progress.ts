import type { LoadHandle } from "../load/index.js";
import type { RunEvent } from "../record/schema.js";
import type { Clock, TimerHandle } from "../../common/clock.js";

/**
 * Concise progress lines on stderr (CI logs and terminals alike): one line per phase and
 * event, and a status line every few seconds read from the load's snapshot on its own period.
 */
export class Progress {
  constructor(
    private readonly write: (line: string) => void,
    private readonly enabled: boolean,
  ) {}

  line(scenario: string, text: string): void {
    if (this.enabled) this.write(`[${scenario}] ${text}\n`);
  }

  event(scenario: string, e: RunEvent): void {
    if (e.kind === "max-in-flight" || e.kind === "note")
      return this.line(scenario, `${fmtT(e.tMs)} ${e.message}`);
    this.line(scenario, `${fmtT(e.tMs)} ${e.kind}: ${e.message}`);
  }

  /** Starts the periodic status line; returns a stop function. */
  ticker(scenario: string, load: LoadHandle, clock: Clock, periodMs = 5000): () => void {
    if (!this.enabled) return () => undefined;
    let timer: TimerHandle | undefined;
    const tick = (): void => {
      const s = load.snapshot();
      const t = s.totals;
      const bad = t.shed + t.error + t.timeout + t.conn;
      const p99 = s.recentLatency.p99 === null ? "-" : `${Math.round(s.recentLatency.p99)}ms`;
      this.line(
        scenario,
        `${fmtT(s.elapsedMs)} sent ${s.scheduled} ok ${t.ok} degraded ${t.degraded} failed ${bad} in-flight ${s.inFlight} p99 ${p99}`,
      );
      timer = clock.setTimeout(tick, periodMs);
    };
    timer = clock.setTimeout(tick, periodMs);
    return () => clock.clearTimeout(timer);
  }
}

function fmtT(ms: number): string {
  return `t=${(ms / 1000).toFixed(1)}s`;
}
