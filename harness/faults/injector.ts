import type { z } from "zod";
import type { Clock } from "../../common/clock.js";
import type { ClientDisconnectSpec } from "../load/types.js";

export type { ClientDisconnectSpec };

/**
 * One fault kind = one module in harness/faults/kinds/ implementing Injector, listed once in
 * harness/faults/registry.ts.
 *
 * The split between inject and revert is what makes rollback survive a crash: `inject`
 * returns a JSON-serialisable `RevertState` that holds everything needed to undo the fault
 * (pids, file paths and original modes, proxy and toxic names, the Toxiproxy URL, ...). The
 * journal writes a "pending" entry before inject runs and the revert state as soon as inject
 * returns, and `revert` must work from that state alone, in a different process
 * (`faultline cleanup`), long after the harness that injected it died. `revert` must be
 * idempotent: reverting twice, or reverting something already gone, is not an error.
 */
export interface Injector<Params, State extends JsonValue = JsonValue> {
  readonly kind: string;
  /** One line for `faultline list`. */
  readonly summary: string;
  /** Strict schema of the parameters; its error paths name the field. */
  readonly params: z.ZodType<Params>;
  /** Which target roles this kind can aim at (e.g. "worker", "api", "spool", "gpu", "link:<name>"). */
  readonly targets: readonly TargetRole[];
  /** Instant faults (a kill) have no duration; others hold until revert. */
  isInstant(params: Params): boolean;
  describe(params: Params, target: string): string;
  inject(params: Params, ctx: FaultContext): Promise<State>;
  revert(state: State, ctx: RevertContext): Promise<void>;
  /**
   * Undoes whatever an inject that never returned (the harness died mid-inject) may have
   * done, from the params and the journaled pending context alone. Absent when inject has no
   * effect to undo before it returns (instant faults). Must be idempotent, like revert.
   */
  revertPending?(params: Params, pending: PendingContext, ctx: RevertContext): Promise<void>;
}

/**
 * What the journal records before inject runs: enough to find what a half-done inject
 * planted, because injectors name everything they create after `occurrenceId`.
 */
export interface PendingContext {
  readonly occurrenceId: string;
  readonly targetName: string;
  readonly stateDir: string | null;
  readonly toxiproxy: { url: string; links: Readonly<Record<string, string>> } | null;
  /** Pids of the process roles this kind aims at, as resolved just before inject. */
  readonly pids: Readonly<Partial<Record<"api" | "worker" | "command", number>>>;
}

export type TargetRole =
  "api" | "worker" | "command" | "spool" | "gpu" | "host" | "link" | "container" | "load" | "lb";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a target adapter exposes to injectors; fields are absent when the target has no such part. */
export interface TargetHandles {
  /**
   * Pid lookup by role, re-read each time (the worker's pid changes on restart). `replica`
   * (1-based) names one of several API replicas (`api#2`); absent: the first.
   */
  pidOf?(role: "api" | "worker" | "command", replica?: number): Promise<number | null>;
  /** How many API replicas run behind the load balancer (absent: one, no balancer). */
  readonly replicas?: number;
  /** The load balancer's pid (the `lb` target), when the target runs one. */
  lbPid?(): Promise<number | null>;
  /** Reference service state directory (spool, gpu co-tenant files). */
  stateDir?: string;
  /** Simulated GPU capacity in bytes, for faults sized as a fraction of it. */
  gpuTotalBytes?(): Promise<number | null>;
  /** Toxiproxy API base URL and the proxies (links) set up for this target, by link name. */
  toxiproxy?: { url: string; links: Readonly<Record<string, string>> };
  /**
   * Restart the named process role (process-mode adapters that own the process). With
   * replicas: `replica` restarts that one; absent, every replica in turn (a rolling restart).
   */
  restart?(role: "api" | "worker" | "command", replica?: number): Promise<void>;
}

export interface FaultContext {
  readonly clock: Clock;
  /** Seeded random source for this fault occurrence, in [0, 1). */
  readonly random: () => number;
  readonly target: TargetHandles;
  /** Name of the aimed-at target as written in the scenario (e.g. "worker", "link:api"). */
  readonly targetName: string;
  readonly signal: AbortSignal;
  /** Optional: fault kinds that act on the load (bursts, client disconnects) get the load controller. */
  readonly load?: LoadControl;
  /**
   * Unique id of this occurrence ([A-Za-z0-9._-]); injectors name what they plant (toxics,
   * files, cgroups) after it so cleanup can find it from the journal alone. The scheduler
   * always sets it; injectors fall back to a random id when absent.
   */
  readonly occurrenceId?: string;
}

export interface RevertContext {
  readonly clock: Clock;
  /** Load controller if the reverting process is the one generating load. */
  readonly load?: LoadControl;
}

/** What the load generator lets fault kinds change while it runs. */
export interface LoadControl {
  setRateMultiplier(multiplier: number): void;
  /** null stops cutting; returns false when the load driver cannot cut streams (k6). */
  setClientDisconnect?(spec: ClientDisconnectSpec | null): boolean;
}

/** Erases the parameter types so kinds can sit in one table. */
export type AnyInjector = Injector<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the registry holds heterogeneous injectors; each is typed where defined
