import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeArgsFor } from "../../../common/spawn-module.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { WORKER_ENTRY, workerArgs } from "../../../reference-service/ipc/protocol.js";
import { parseWorkerArgs } from "../../../reference-service/worker/args.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fl-standby-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function standbyWorker(stateDir: string) {
  const child = spawn(
    process.execPath,
    [...nodeArgsFor(WORKER_ENTRY), ...workerArgs(stateDir), "--standby"],
    {
      stdio: ["pipe", "ignore", "inherit"],
    },
  );
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, exit };
}

describe("worker --standby", () => {
  it("is a flag of the command line, absent from a plain start", () => {
    const plain = parseWorkerArgs(workerArgs("d"));
    const spare = parseWorkerArgs([...workerArgs("d"), "--standby"]);
    expect([plain.ok && plain.standby, spare.ok && spare.standby]).toEqual([undefined, true]);
  });

  it("ends with 0 and has written nothing when its stdin ends before a start line", async () => {
    const stateDir = join(dir, "never");
    const { child, exit } = standbyWorker(stateDir);
    child.stdin.end();
    expect(await exit).toEqual(0);
    expect(existsSync(stateDir)).toEqual(false);
  });

  it("starts at its start line: pid file and a ready heartbeat of its own pid", async () => {
    const stateDir = join(dir, "started");
    const { child, exit } = standbyWorker(stateDir);
    child.stdin.end("start\n");
    try {
      const deadline = Date.now() + 20_000;
      let phase: string | undefined;
      while (phase !== "ready" && Date.now() < deadline) {
        await sleep(20);
        const text = await readFile(join(stateDir, STATE_FILES.heartbeat), "utf8").catch(() => "{}");
        phase = (JSON.parse(text) as { pid?: number; phase?: string }).phase;
      }
      expect(phase).toEqual("ready");
      const pid = Number((await readFile(join(stateDir, STATE_FILES.workerPid), "utf8")).trim());
      expect(pid).toEqual(child.pid);
    } finally {
      child.kill("SIGKILL");
      await exit;
    }
  });
});
