import { spawn } from "node:child_process";
import { join } from "node:path";
import { RunNotPossibleError } from "../../common/errors.js";
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
  function launch(): ReturnType<typeof spawn> {
    const c = spawn(spec.cmd, spec.args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, ...spec.env },
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
