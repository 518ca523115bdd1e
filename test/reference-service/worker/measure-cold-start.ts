/**
 * Worker cold start, spawn -> first heartbeat and spawn -> phase "ready" (preload done).
 * Not a test (timing belongs in measurements): run it by hand,
 *   node --import tsx test/reference-service/worker/measure-cold-start.ts [runs]
 * It measures the sources through tsx, and dist/ too when `npm run build` has produced it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerArgs } from "../../../reference-service/ipc/protocol.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const variants: [string, string[]][] = [
  ["tsx", ["--import", "tsx", join(root, "reference-service/worker/main.ts")]],
];
const dist = join(root, "dist/reference-service/worker/main.js");
if (existsSync(dist)) variants.push(["dist", [dist]]);

async function once(nodeArgs: string[]): Promise<[number, number]> {
  const dir = mkdtempSync(join(tmpdir(), "faultline-cold-"));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, ...workerArgs(dir)], { stdio: "ignore", cwd: root });
  let first = -1;
  let ready = -1;
  while (ready < 0 && performance.now() - t0 < 15_000) {
    try {
      const hb = JSON.parse(readFileSync(join(dir, "spool/heartbeat.json"), "utf8")) as { phase: string };
      if (first < 0) first = performance.now() - t0;
      if (hb.phase === "ready") ready = performance.now() - t0;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  rmSync(dir, { recursive: true, force: true });
  return [Math.round(first), Math.round(ready)];
}

const runs = Number(process.argv[2] ?? 5);
for (const [name, args] of variants) {
  const res: [number, number][] = [];
  for (let i = 0; i < runs; i++) res.push(await once(args));
  const median = (k: 0 | 1): number => res.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs / 2)] ?? -1;
  console.log(
    `${name}: median first heartbeat ${median(0)} ms, ready ${median(1)} ms; runs ${JSON.stringify(res)}`,
  );
}
