import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { killPid } from "../../../common/safe-kill.js";
import type { Injector } from "../injector.js";
import {
  containerSelector,
  dockerOf,
  onContainer,
  resolveContainer,
  type ContainerRef,
} from "../../docker/faults/container-ref.js";

export const KILL_SIGNALS = [
  "SIGKILL",
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGHUP",
  "SIGUSR1",
  "SIGUSR2",
] as const;

const params = z.strictObject({
  ...containerSelector,
  signal: z.enum(KILL_SIGNALS).default("SIGKILL"),
  /**
   * crash: signal the container's init process from this host, so the engine sees the
   * process die by itself and applies the restart policy (needs the engine on this host).
   * engine: `docker kill -s`; Docker counts that as a manual stop and never restarts it.
   */
  mode: z.enum(["crash", "engine"]).default("crash"),
});
type Params = z.infer<typeof params>;
type State = ContainerRef & { signal: string; mode: string; pid: number };

function signalHostPid(ref: ContainerRef, pid: number, signal: NodeJS.Signals): void {
  try {
    if (!killPid(pid, signal)) throw Object.assign(new Error("no such process"), { code: "ESRCH" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FaultError(
      `cannot signal ${ref.name}'s process ${pid} from this host (${code ?? String(error)})`,
      'the engine runs elsewhere or as another user: use mode: "engine" (no restart-policy restart)',
    );
  }
}

/**
 * Kills a container's main process with a signal. By default as a crash (the process dies
 * and the container's restart policy decides whether and when it comes back, which is what
 * the run measures); `mode: engine` goes through `docker kill`, which Docker treats as an
 * operator's stop. Instant: there is nothing to revert.
 */
export const containerKill: Injector<Params, State> = {
  kind: "container-kill",
  summary:
    "Kill a container's process with a signal (default SIGKILL, as a crash); its restart policy decides recovery",
  params,
  targets: ["container"],
  isInstant: () => true,
  describe: (p, target) => `${p.signal} ${target} (${p.mode === "crash" ? "crash" : "docker kill"})`,
  async inject(p, ctx) {
    const ref = await resolveContainer(ctx, p);
    const c = dockerOf(ctx).getContainer(ref.id);
    const info = await c.inspect();
    if (!info.State.Running) throw new FaultError(`${ref.name} is not running (${info.State.Status})`);
    if (p.mode === "crash") signalHostPid(ref, info.State.Pid, p.signal);
    else await onContainer(ref, `kill -s ${p.signal}`, () => c.kill({ signal: p.signal }));
    return { ...ref, signal: p.signal, mode: p.mode, pid: info.State.Pid };
  },
  async revert() {
    // A kill cannot be undone; the restart policy (or the adapter's restart) brings it back.
  },
};
