import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nodeArgsFor } from "../../../common/spawn-module.js";
import { DEFAULT_WORKER_CONFIG, WORKER_ENTRY, workerArgs } from "../../../reference-service/ipc/protocol.js";
import { parseWorkerArgs } from "../../../reference-service/worker/args.js";

describe("worker command line", () => {
  it("fills every default from an empty config", () => {
    expect(parseWorkerArgs(workerArgs("/tmp/x"))).toEqual({
      ok: true,
      stateDir: "/tmp/x",
      config: DEFAULT_WORKER_CONFIG,
    });
    expect(DEFAULT_WORKER_CONFIG.models.map((m) => [m.name, m.device, m.sizeBytes / 1024 ** 2])).toEqual([
      ["sim-utility", "gpu", 2048],
      ["sim-reasoning", "gpu", 4096],
      ["sim-embed", "cpu", 256],
    ]);
  });

  it("merges a partial config over the defaults", () => {
    const r = parseWorkerArgs(workerArgs("d", { maxRunning: 2, gpu: { totalBytes: 1024 } }));
    expect(r.ok && [r.config.maxRunning, r.config.gpu.totalBytes, r.config.gpu.pressureThreshold]).toEqual([
      2, 1024, 0.85,
    ]);
  });

  it.each([
    [["--config", "{}"], "--state-dir DIR is required"],
    [["--state-dir", "d", "--config", "{nope"], "--config is not valid JSON: "],
    [["--state-dir", "d", "--config", '{"gpu":{"totalBytes":-1}}'], "config.gpu.totalBytes: "],
    [["--state-dir", "d", "--config", '{"maxRunnning":3}'], 'config: Unrecognized key: "maxRunnning"'],
    [["--state-dir", "d", "--bogus"], "Unknown option '--bogus'"],
  ])("refuses %j naming the problem", (argv, start) => {
    const r = parseWorkerArgs(argv);
    expect(r.ok ? "accepted" : r.message.slice(0, start.length)).toBe(start);
  });

  it("a real worker with a bad config exits 2 with the field on stderr", async () => {
    const child = spawn(
      process.execPath,
      [...nodeArgsFor(WORKER_ENTRY), ...workerArgs("/tmp/unused", { maxRunning: 0 })],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect([code, stderr.split(":").slice(0, 2).join(":")]).toEqual([2, "worker: config.maxRunning"]);
  });
});
