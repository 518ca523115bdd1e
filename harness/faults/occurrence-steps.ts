import type { Clock } from "../../common/clock.js";
import { isCarrierGone } from "./carrier.js";
import type {
  AnyInjector,
  FaultContext,
  JsonValue,
  PendingContext,
  RevertContext,
  TargetHandles,
} from "./injector.js";
import type { FaultJournal, JournalEntry } from "./journal.js";
import { PROCESS_ROLES, replicaOf } from "./process-target.js";
import { roleOfTarget } from "./validate.js";

/**
 * The two steps of one fault occurrence with the journal around them: inject (pending entry
 * first, revert state as soon as inject returns) and revert (journal entry removed only after
 * revert succeeded, so a failed revert is left for `faultline cleanup`).
 */
export interface InjectRequest {
  readonly occurrenceId: string;
  readonly faultId: string;
  readonly kind: string;
  readonly target: string;
  readonly params: unknown;
  readonly injector: AnyInjector;
  readonly handles: TargetHandles;
  readonly clock: Clock;
  readonly random: () => number;
  readonly signal: AbortSignal;
  readonly load?: FaultContext["load"];
}

export type InjectOutcome =
  | { readonly ok: true; readonly entry: JournalEntry; readonly state: JsonValue }
  | { readonly ok: false; readonly error: string };

/** Resolves what cleanup would need if this process died inside inject. */
export async function pendingContext(req: InjectRequest): Promise<PendingContext> {
  const pids: Partial<Record<(typeof PROCESS_ROLES)[number], number>> = {};
  const role = PROCESS_ROLES.find((r) => r === roleOfTarget(req.target));
  if (role && req.handles.pidOf) {
    const pid = await req.handles.pidOf(role, replicaOf(req.target)).catch(() => null);
    if (pid !== null) pids[role] = pid;
  }
  return {
    occurrenceId: req.occurrenceId,
    targetName: req.target,
    stateDir: req.handles.stateDir ?? null,
    toxiproxy: req.handles.toxiproxy ?? null,
    pids,
  };
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function injectStep(journal: FaultJournal, req: InjectRequest): Promise<InjectOutcome> {
  const context = await pendingContext(req);
  const entry = await journal.begin({
    occurrenceId: req.occurrenceId,
    faultId: req.faultId,
    kind: req.kind,
    target: req.target,
    params: req.params as JsonValue,
    context,
    createdAtMs: req.clock.now(),
  });
  const ctx: FaultContext = {
    clock: req.clock,
    random: req.random,
    target: req.handles,
    targetName: req.target,
    signal: req.signal,
    load: req.load,
    occurrenceId: req.occurrenceId,
  };
  let state: JsonValue;
  try {
    state = (await req.injector.inject(req.params, ctx)) as JsonValue;
  } catch (e) {
    const error = errorText(e);
    // Inject may have done part of its work before it failed: undo that, then forget it.
    const undone = await undoPending(req.injector, entry, { clock: req.clock, load: req.load });
    if (undone === null) await journal.remove(req.occurrenceId);
    return { ok: false, error: undone === null ? error : `${error}; undo failed: ${undone}` };
  }
  const active = await journal.activate(entry, state, req.clock.now());
  return { ok: true, entry: active, state };
}

/** Runs revertPending for a pending entry; null on success, else the error text. */
export async function undoPending(
  injector: AnyInjector,
  entry: JournalEntry,
  ctx: RevertContext,
): Promise<string | null> {
  if (!injector.revertPending) return null;
  try {
    const params: unknown = injector.params.parse(entry.params);
    await injector.revertPending(params, entry.context, ctx);
    return null;
  } catch (e) {
    return isCarrierGone(e) ? null : errorText(e);
  }
}

/** Reverts and clears the journal entry; null on success, else the error text (entry kept). */
export async function revertStep(
  journal: FaultJournal,
  injector: AnyInjector,
  occurrenceId: string,
  state: JsonValue,
  ctx: RevertContext,
): Promise<string | null> {
  try {
    await injector.revert(state, ctx);
  } catch (e) {
    if (!isCarrierGone(e)) return errorText(e); // carrier gone: nothing left in effect
  }
  await journal.remove(occurrenceId);
  return null;
}
