import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_WITH_PARENT_ENV, STATE_FILES } from "../../../reference-service/contract.js";
import { alive } from "./service-process.js";

const DIST_MAIN = fileURLToPath(new URL("../../../dist/reference-service/main.js", import.meta.url));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/**
 * A SIGKILLed starter (the harness) cannot stop what it started; the API process it started
 * with FAULTLINE_EXIT_WITH_PARENT notices it was reparented, drains and exits, and its worker
 * follows. The starter here is a small Node process standing in for `faultline run`.
 */
describe("reference service started by a process that is SIGKILLed", { timeout: 60_000 }, () => {
  it("the API and its worker exit on their own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fl-orphan-"));
    const stateDir = join(dir, "state");
    const starter = spawn(
      process.execPath,
      [
        "-e",
        `const { spawn } = require("node:child_process");
         spawn(process.execPath, [${JSON.stringify(DIST_MAIN)}, "--port", "0", "--state-dir", ${JSON.stringify(stateDir)}],
           { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ${EXIT_WITH_PARENT_ENV}: String(process.pid) } });
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let apiPid = 0;
    let workerPid = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        starter.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("faultline reference service listening on")) resolve();
        });
        starter.once("exit", (code) => reject(new Error(`starter exited with ${code}`)));
      });
      const pidIn = async (file: string): Promise<number> =>
        Number((await readFile(join(stateDir, file), "utf8").catch(() => "0")).trim());
      apiPid = await pidIn(STATE_FILES.apiPid);
      // The worker writes its pid once it has started (the API is listening before that).
      const deadline = Date.now() + 15_000;
      while (workerPid === 0 && Date.now() < deadline) {
        workerPid = await pidIn(STATE_FILES.workerPid);
        if (workerPid === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect([alive(apiPid), alive(workerPid)]).toEqual([true, true]);
      starter.kill("SIGKILL");
      // Polled every 500 ms, then a drain with nothing in flight: well within 15 s.
      expect(await until(() => !alive(apiPid) && !alive(workerPid), 15_000)).toBe(true);
    } finally {
      starter.kill("SIGKILL");
      for (const pid of [apiPid, workerPid]) if (pid > 1 && alive(pid)) process.kill(pid, "SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
