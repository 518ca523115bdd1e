import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { workerConfigSchema } from "../../../reference-service/ipc/protocol.js";
import { startWorker, type WorkerHandle } from "../../../reference-service/worker/run.js";

let dir: string | undefined;
let worker: WorkerHandle | undefined;
afterEach(async () => {
  await worker?.shutdown();
  worker = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const phaseOnDisk = async (stateDir: string): Promise<string> =>
  (JSON.parse(await readFile(join(stateDir, STATE_FILES.heartbeat), "utf8")) as { phase: string }).phase;

describe("worker start-up", () => {
  it("writes a heartbeat saying ready as soon as the preload is done, not at the next beat", async () => {
    dir = await mkdtemp(join(tmpdir(), "faultline-ready-beat-"));
    const clock = new ManualClock(Date.now());
    const config = workerConfigSchema.parse({
      heartbeatIntervalMs: 60_000,
      preload: "sim-fast",
      models: [
        {
          name: "sim-fast",
          device: "cpu",
          task: "generate",
          sizeBytes: 1024,
          loadMs: 500,
          prefillMs: 0,
          prefillMsPerToken: 0,
          msPerToken: 0,
        },
      ],
    });
    worker = await startWorker(dir, config, clock);
    expect(await phaseOnDisk(dir)).toEqual("starting");
    await clock.advanceAsync(500); // the preload's load time; the next beat is 59.5 s away
    await expect.poll(() => phaseOnDisk(dir ?? "")).toEqual("ready");
    expect(worker.phase()).toEqual("ready");
  });
});
