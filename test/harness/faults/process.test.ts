import { afterEach, describe, expect, it } from "vitest";
import { processFreeze } from "../../../harness/faults/kinds/process-freeze.js";
import { processKill } from "../../../harness/faults/kinds/process-kill.js";
import { processRestart } from "../../../harness/faults/kinds/process-restart.js";
import { processTerm } from "../../../harness/faults/kinds/process-term.js";
import { readProcStat } from "../../../harness/faults/proc.js";
import type { TargetHandles } from "../../../harness/faults/injector.js";
import { Sandbox, exitOf, faultContext, waitForState } from "./helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

const handlesFor = (pids: Partial<Record<"api" | "worker" | "command", number>>): TargetHandles => ({
  pidOf: (role) => Promise.resolve(pids[role] ?? null),
});

describe("process faults on real processes", () => {
  it("process-kill ends the worker with SIGKILL", async () => {
    const child = await sandbox.spawnLoop();
    const params = processKill.params.parse({});
    await processKill.inject(params, faultContext(handlesFor({ worker: child.pid }), "worker"));
    expect(await exitOf(child)).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("process-term delivers SIGTERM, which a process may handle", async () => {
    const child = await sandbox.spawnLoop({
      script:
        'process.on("SIGTERM", () => process.exit(42)); setInterval(() => {}, 1000); process.stdout.write("ready\\n");',
    });
    await processTerm.inject(
      processTerm.params.parse({}),
      faultContext(handlesFor({ api: child.pid }), "api"),
    );
    expect(await exitOf(child)).toEqual({ code: 42, signal: null });
  });

  it("process-freeze stops the process (state T) and revert resumes it", async () => {
    const child = await sandbox.spawnLoop();
    const pid = child.pid ?? -1;
    const state = await processFreeze.inject(
      processFreeze.params.parse({ scope: "process" }),
      faultContext(handlesFor({ worker: pid }), "worker"),
    );
    expect(state).toEqual({ pid, startTime: (await readProcStat(pid))?.startTime, group: false });
    expect(await waitForState(pid, "T")).toBe("T");
    await processFreeze.revert(state, { clock: faultContext({}, "worker").clock });
    expect(await waitForState(pid, "S")).toBe("S");
    // Reverting twice is harmless.
    await processFreeze.revert(state, { clock: faultContext({}, "worker").clock });
    expect(await waitForState(pid, "S")).toBe("S");
  });

  it("a freeze revert leaves a recycled pid alone (start time differs)", async () => {
    const child = await sandbox.spawnLoop();
    const pid = child.pid ?? -1;
    process.kill(pid, "SIGSTOP");
    expect(await waitForState(pid, "T")).toBe("T");
    await processFreeze.revert({ pid, startTime: 1, group: false }, { clock: faultContext({}, "w").clock });
    // Still stopped: the journaled start time did not match, so no SIGCONT was sent.
    expect(await waitForState(pid, "T", 200)).toBe("T");
  });

  it("scope auto kills the whole group when the target leads its own group", async () => {
    // A detached shell leads its group; its child node loop is in that group too.
    const { child: leader, line } = await sandbox.spawnLoopWithLine({
      detached: true,
      script:
        'const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], {stdio: "ignore"});' +
        'setInterval(() => {}, 1000); process.stdout.write(String(c.pid) + "\\n");',
    });
    const grandchild = Number(line);
    expect((await readProcStat(grandchild))?.pgid).toBe(leader.pid);
    await processKill.inject(
      processKill.params.parse({}),
      faultContext(handlesFor({ command: leader.pid }), "command"),
    );
    expect(await exitOf(leader)).toEqual({ code: null, signal: "SIGKILL" });
    expect(await waitForState(grandchild, "gone")).toBe("gone");
  });

  it("scope group is refused for a process that shares the harness's group", async () => {
    const child = await sandbox.spawnLoop();
    const ctx = faultContext(handlesFor({ worker: child.pid }), "worker");
    await expect(processKill.inject({ scope: "group" }, ctx)).rejects.toThrow(
      `process ${child.pid} does not lead a process group of its own`,
    );
    expect(child.exitCode).toBe(null);
  });

  it("a missing process and a bad role are clear errors", async () => {
    await expect(
      processKill.inject({ scope: "auto" }, faultContext(handlesFor({}), "worker")),
    ).rejects.toThrow("no worker process is running");
    await expect(
      processKill.inject({ scope: "auto" }, faultContext(handlesFor({}), "link:api")),
    ).rejects.toThrow('target "link:api" is not a process role (api, worker, command)');
  });

  it("process-restart calls the adapter's restart for the role", async () => {
    const calls: string[] = [];
    const handles: TargetHandles = { restart: (role) => Promise.resolve(void calls.push(role)) };
    expect(await processRestart.inject({}, faultContext(handles, "worker"))).toBe(null);
    expect(calls).toEqual(["worker"]);
  });

  it("params are strict: unknown keys and bad scopes are rejected with the field", () => {
    const bad = processKill.params.safeParse({ scope: "everything", signal: 9 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join("."), i.code])).toEqual([
      ["scope", "invalid_value"],
      ["", "unrecognized_keys"],
    ]);
  });
});
