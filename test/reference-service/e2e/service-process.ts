import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnModule } from "../../../common/spawn-module.js";
import { STATE_FILES } from "../../../reference-service/contract.js";

const MAIN = new URL("../../../reference-service/main.js", import.meta.url);
/** The compiled service (built by `npm run build`, which `npm test` runs before vitest). */
const DIST_MAIN = new URL("../../../dist/reference-service/main.js", import.meta.url);

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dir: string;
  readonly stateDir: string;
  readonly stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  workerPid(): Promise<number>;
  /** Kills the API and its worker group (no orphans) and removes the temp dir. */
  cleanup(): Promise<void>;
}

/** A worker whose one generation model takes `msPerToken` per token and runs up to 64 requests at once. */
export function slowWorkerConfig(msPerToken: number) {
  const model = {
    name: "sim-utility",
    device: "gpu",
    task: "generate",
    sizeBytes: 2 * 1024 ** 3,
    loadMs: 200,
    prefillMs: 20,
    prefillMsPerToken: 0.1,
  };
  return { worker: { maxRunning: 64, models: [{ ...model, msPerToken }] } };
}

/** Spawns the real API process (main.ts) and waits for its "listening" line. */
export async function startService(
  args: readonly string[] = [],
  config?: unknown,
  options: { fromDist?: boolean; env?: Readonly<Record<string, string>> } = {},
): Promise<ServiceProcess> {
  const dir = await mkdtemp(join(tmpdir(), "fl-e2e-"));
  const stateDir = join(dir, "state");
  const configArgs: string[] = [];
  if (config !== undefined) {
    await writeFile(join(dir, "config.json"), JSON.stringify(config));
    configArgs.push("--config", join(dir, "config.json"));
  }
  if (options.fromDist && !existsSync(DIST_MAIN)) {
    throw new Error("dist/reference-service/main.js is missing: run `npm run build` first (npm test does)");
  }
  const child = spawnModule(
    options.fromDist ? DIST_MAIN : MAIN,
    ["--port", "0", "--state-dir", stateDir, ...configArgs, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /faultline reference service listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exit.then(({ code }) => reject(new Error(`service exited with ${code}: ${err}`)));
  });
  const workerPid = async () =>
    Number((await readFile(join(stateDir, STATE_FILES.workerPid), "utf8")).trim());
  return {
    child,
    url,
    dir,
    stateDir,
    stderr: () => err,
    exit,
    workerPid,
    async cleanup() {
      const wp = await workerPid().catch(() => 0);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exit;
      if (wp > 0) {
        try {
          process.kill(-wp, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitReady(url: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const r = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (r?.status === 200) return performance.now() - start;
    await r?.body?.cancel();
    if (performance.now() - start > timeoutMs) throw new Error(`not ready after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
