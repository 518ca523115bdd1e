/**
 * When to restart a worker that died or hung, as pure timing logic on the injected Clock:
 * - exponential backoff: initial x multiplier^n, capped at max (n = restarts since the last
 *   healthy run); with `firstRestartImmediate` the first restart after a healthy run has no
 *   delay (a one-off crash costs only the boot time) and the sequence starts at the second;
 * - cooldown: a worker that stayed up `cooldownMs` was healthy, so the sequence starts over;
 * - budget: at most `budgetRestarts` restarts in any `budgetWindowMs`; one more failure past
 *   that and the supervisor gives up (stays down, says so) instead of crash-looping.
 */
import type { Clock } from "../../common/clock.js";

export interface RestartPolicyOptions {
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly backoffMultiplier: number;
  readonly cooldownMs: number;
  readonly budgetRestarts: number;
  readonly budgetWindowMs: number;
  readonly firstRestartImmediate?: boolean;
}

export type RestartDecision =
  | { readonly action: "restart"; readonly delayMs: number; readonly attempt: number }
  | { readonly action: "give-up"; readonly reason: string };

export class RestartPolicy {
  private attempt = 0;
  private startedAt: number | undefined;
  private readonly restarts: number[] = [];

  constructor(
    private readonly options: RestartPolicyOptions,
    private readonly clock: Clock,
  ) {}

  /** A worker process was spawned now. */
  started(): void {
    this.startedAt = this.clock.monotonic();
  }

  /** Restarts counted in the current budget window. */
  get restartsInWindow(): number {
    this.prune();
    return this.restarts.length;
  }

  /** The worker just died or was killed for hanging: restart (after a delay) or give up. */
  decide(): RestartDecision {
    const now = this.clock.monotonic();
    if (this.startedAt !== undefined && now - this.startedAt >= this.options.cooldownMs) this.attempt = 0;
    this.prune();
    if (this.restarts.length >= this.options.budgetRestarts) {
      return {
        action: "give-up",
        reason: `restart budget spent: ${this.restarts.length} restarts in ${this.options.budgetWindowMs} ms`,
      };
    }
    const o = this.options;
    const step = o.firstRestartImmediate ? this.attempt - 1 : this.attempt;
    const delayMs =
      step < 0 ? 0 : Math.min(o.backoffMaxMs, Math.round(o.backoffInitialMs * o.backoffMultiplier ** step));
    this.attempt++;
    this.restarts.push(now);
    return { action: "restart", delayMs, attempt: this.attempt };
  }

  private prune(): void {
    const cutoff = this.clock.monotonic() - this.options.budgetWindowMs;
    while (this.restarts.length > 0 && this.restarts[0] <= cutoff) this.restarts.shift();
  }
}
