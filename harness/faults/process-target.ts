import { z } from "zod";
import { FaultError } from "../../common/errors.js";
import type { FaultContext } from "./injector.js";
import { readProcStat } from "./proc.js";

export const PROCESS_ROLES = ["api", "worker", "command"] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

/**
 * What "kill the worker" means. `process`: that one pid, as a crash would. `group`: its whole
 * process group (the worker and anything it spawned), as a container kill would; allowed only
 * when the target leads its own group, never the harness's own group. `auto` (default): the
 * group when the target leads a group that is not ours, else the process.
 */
export const scopeSchema = z.enum(["auto", "process", "group"]).default("auto");
export type Scope = z.infer<typeof scopeSchema>;

/** One resolved victim; a type alias (not an interface) so it is assignable to JsonValue. */
export type Victim = { pid: number; startTime: number; group: boolean };

export function roleOf(targetName: string): ProcessRole {
  const role = targetName.split(/[:#]/)[0];
  const found = PROCESS_ROLES.find((r) => r === role);
  if (!found) throw new FaultError(`target "${targetName}" is not a process role (api, worker, command)`);
  return found;
}

/** The replica a target name addresses: "api#2" -> 2; "api" -> undefined (all, or the only one). */
export function replicaOf(targetName: string): number | undefined {
  const m = /#(\d+)$/.exec(targetName);
  return m ? Number(m[1]) : undefined;
}

export async function resolveVictim(
  ctx: FaultContext,
  scope: Scope,
  replica = replicaOf(ctx.targetName),
): Promise<Victim> {
  const role = roleOf(ctx.targetName);
  if (!ctx.target.pidOf) throw new FaultError(`target "${ctx.targetName}" exposes no processes`);
  const pid = await ctx.target.pidOf(role, replica);
  const which = replica === undefined ? role : `${role}#${replica}`;
  if (pid === null) throw new FaultError(`no ${which} process is running`, "start the target first");
  return victimFromPid(pid, scope);
}

/**
 * Every process a target name addresses: `api#2` is one replica; `api` is all replicas when
 * several run behind the balancer (the only one otherwise).
 */
export async function resolveVictims(ctx: FaultContext, scope: Scope): Promise<Victim[]> {
  const one = replicaOf(ctx.targetName);
  const n = ctx.target.replicas ?? 1;
  if (one !== undefined || n <= 1) return [await resolveVictim(ctx, scope, one)];
  const out: Victim[] = [];
  for (let r = 1; r <= n; r++) {
    const v = await resolveVictim(ctx, scope, r);
    // With upstreamLink every replica's `worker` is the one model server's: signal it once.
    if (!out.some((o) => o.pid === v.pid)) out.push(v);
  }
  return out;
}

export async function victimFromPid(pid: number, scope: Scope): Promise<Victim> {
  const stat = await readProcStat(pid);
  if (!stat) throw new FaultError(`process ${pid} does not exist`);
  const own = await readProcStat(process.pid);
  const leader = stat.pgid === pid;
  const ours = own !== null && own.pgid === stat.pgid;
  if (scope === "group" && (!leader || ours)) {
    throw new FaultError(
      `process ${pid} does not lead a process group of its own`,
      'use scope: "process" to signal only that process',
    );
  }
  const group = scope === "group" || (scope === "auto" && leader && !ours);
  return { pid, startTime: stat.startTime, group };
}

export const signalTarget = (v: Victim): number => (v.group ? -v.pid : v.pid);

export function describeVictim(target: string, scope: Scope): string {
  return scope === "group" ? `the process group of ${target}` : target;
}
