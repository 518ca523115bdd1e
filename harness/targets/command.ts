import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { RunNotPossibleError } from "../../common/errors.js";
import { ALERT_WEBHOOK_ENV } from "../alerts/receiver.js";
import type { TargetSpec } from "../scenario/schema.js";
import { openLog, pipeToLog, waitHttpOk } from "./process-io.js";
import { terminate } from "./supervised-process.js";
import type { RunningTarget, TargetContext } from "./target.js";

type CommandSpec = Extract<TargetSpec, { kind: "command" }>;

const STOP_TIMEOUT_MS = 10_000;

/** Any command the user names: started in its own process group, ready when readyUrl answers 2xx. */
export async function startCommand(spec: CommandSpec, ctx: TargetContext): Promise<RunningTarget> {
  const log = openLog(join(ctx.runDir, "target.log"));
  let child = launch();
  await assertSpawned(child, spec);
  function launch(): ReturnType<typeof spawn> {
    const c = spawn(spec.cmd, spec.args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: {
        ...process.env,
        ...(ctx.alertWebhookUrl ? { [ALERT_WEBHOOK_ENV]: ctx.alertWebhookUrl } : {}),
        ...spec.env,
      },
    });
    c.on("error", (e) => log.write(`spawn error: ${e.message}\n`));
    pipeToLog(c, log);
    return c;
  }
  const alive = (): boolean =>
    child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const failure = await waitHttpOk(spec.readyUrl, spec.startTimeout, alive);
  if (failure !== null) {
    await terminate(child, STOP_TIMEOUT_MS);
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
        await terminate(child, STOP_TIMEOUT_MS);
        child = launch();
        await assertSpawned(child, spec);
        const why = await waitHttpOk(spec.readyUrl, spec.startTimeout, alive);
        if (why !== null)
          throw new RunNotPossibleError(`the command did not come back after a restart: ${why}`);
      },
    },
    async stop() {
      await terminate(child, STOP_TIMEOUT_MS);
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
