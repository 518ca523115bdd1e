import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { RunNotPossibleError } from "../../common/errors.js";
import { ALERT_WEBHOOK_ENV } from "../alerts/receiver.js";
import type { TargetSpec } from "../scenario/schema.js";
import { recordChild } from "../faults/started.js";
import { withParentDeathSignal } from "../../common/parent-death.js";
import { openLog, pipeToLog, waitHttpOk } from "./process-io.js";
import { terminate } from "./supervised-process.js";
import type { TargetKind } from "./kind.js";
import type { RunningTarget, TargetContext } from "./target.js";

type CommandSpec = Extract<TargetSpec, { kind: "command" }>;

const STOP_TIMEOUT_MS = 10_000;

/** Any command the user names: started in its own process group, ready when readyUrl answers 2xx. */
export async function startCommand(spec: CommandSpec, ctx: TargetContext): Promise<RunningTarget> {
  const log = openLog(join(ctx.runDir, "target.log"));
  let child = launch();
  await assertSpawned(child, spec);
  let mark = await recordChild(ctx.started, `command target ${spec.cmd}`, child, true);
  // Stops the child and clears its journal entry (faults/started.ts).
  const stopChild = async (): Promise<void> => {
    await terminate(child, STOP_TIMEOUT_MS);
    await mark?.forget();
    mark = null;
  };
  function launch(): ReturnType<typeof spawn> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(ctx.alertWebhookUrl ? { [ALERT_WEBHOOK_ENV]: ctx.alertWebhookUrl } : {}),
      ...spec.env,
    };
    const [file, args] = withParentDeathSignal(spec.cmd, spec.args, env["PATH"]);
    const c = spawn(file, args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env,
    });
    c.on("error", (e) => log.write(`spawn error: ${e.message}\n`));
    pipeToLog(c, log);
    return c;
  }
  const alive = (): boolean =>
    child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const failure = await waitHttpOk(spec.readyUrl, spec.startTimeout, alive);
  if (failure !== null) {
    await stopChild();
    log.end();
    throw new RunNotPossibleError(
      `the command target "${spec.cmd}" did not become ready at ${spec.readyUrl}: ${failure}`,
      `see ${join(ctx.runDir, "target.log")}`,
    );
  }
  const url = spec.baseUrl ?? new URL(spec.readyUrl).origin;
  return {
    kind: "command",
    description: `${spec.cmd} ${spec.args.join(" ")}`.trim(),
    url,
    handles: {
      pidOf: (role) => Promise.resolve(role === "command" && alive() ? (child.pid ?? null) : null),
      restart: async (role) => {
        if (role !== "command") throw new RunNotPossibleError(`a command target has no "${role}" process`);
        await stopChild();
        child = launch();
        await assertSpawned(child, spec);
        mark = await recordChild(ctx.started, `command target ${spec.cmd}`, child, true);
        const why = await waitHttpOk(spec.readyUrl, spec.startTimeout, alive);
        if (why !== null)
          throw new RunNotPossibleError(`the command did not come back after a restart: ${why}`);
      },
    },
    async stop() {
      await stopChild();
      log.end();
    },
  };
}

/**
 * Waits for the child to be spawned. A binary that cannot be started is named in one line
 * (nothing was started, so nothing is signalled); a whole shell line in `cmd` gets a hint,
 * because the command runs without a shell.
 */
async function assertSpawned(child: ChildProcess, spec: CommandSpec): Promise<void> {
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", (e: NodeJS.ErrnoException) => resolve(e));
  });
  if (error === null) return;
  const why =
    error.code === "ENOENT" ? "was not found" : `could not be started (${error.code ?? error.message})`;
  const words = spec.cmd.trim().split(/\s+/);
  const hint =
    words.length > 1
      ? `cmd is run without a shell: write cmd: ${JSON.stringify(words[0])} and args: ${JSON.stringify(words.slice(1))}`
      : "check target.cmd (an absolute path, or a program on PATH)";
  throw new RunNotPossibleError(`the command target's binary "${spec.cmd}" ${why}`, hint);
}

export const commandKind: TargetKind<CommandSpec> = {
  start: startCommand,
  faultTargets: () => ["command", "host", "load", "link:client-api"],
  check: () => [],
  referenceOptions: () => null,
  servesMetrics: () => false,
  dashboardHealth: () => false,
  k6BaseUrl: (t) => t.baseUrl ?? new URL(t.readyUrl).origin,
};
