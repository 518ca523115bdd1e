import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { nodeArgsFor } from "../../../common/spawn-module.js";
import { WORKER_ENTRY, workerArgs } from "../../../reference-service/ipc/protocol.js";
import { settleWithin } from "../../../reference-service/llama/open-deadline.js";

describe("settleWithin (the bound on opening node-llama-cpp)", () => {
  it("calls onLate exactly once when the work has not settled at the deadline", () => {
    const clock = new ManualClock();
    let late = 0;
    void settleWithin(new Promise<never>(() => undefined), 60_000, clock, () => late++);
    clock.advance(59_999);
    expect(late).toBe(0);
    clock.advance(1);
    expect(late).toBe(1);
    clock.advance(120_000);
    expect(late).toBe(1);
  });

  it("never calls onLate once the work resolved, and passes its value through", async () => {
    const clock = new ManualClock();
    let late = 0;
    const value = await settleWithin(Promise.resolve("opened"), 60_000, clock, () => late++);
    expect(value).toBe("opened");
    expect(clock.pendingTimers).toBe(0);
    clock.advance(60_000);
    expect(late).toBe(0);
  });

  it("a rejection passes through unchanged and clears the deadline", async () => {
    const clock = new ManualClock();
    let late = 0;
    const failure = new Error("binary missing");
    await expect(settleWithin(Promise.reject(failure), 60_000, clock, () => late++)).rejects.toBe(failure);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(60_000);
    expect(late).toBe(0);
  });
});

describe("a real worker whose engine does not open in time", () => {
  it("says which setting bounded it and SIGKILLs itself, so the supervisor restarts it as a crash", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "fl-open-deadline-"));
    try {
      // 1 ms: importing node-llama-cpp alone takes longer, so the bound always falls due first.
      const config = { engine: "llama" as const, preload: null, llama: { openTimeoutMs: 1 } };
      const child = spawn(process.execPath, [...nodeArgsFor(WORKER_ENTRY), ...workerArgs(stateDir, config)], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on("exit", (c, s) => resolve([c, s])),
      );
      expect([code, signal]).toEqual([null, "SIGKILL"]);
      expect(stderr).toContain(
        "worker: engine llama: node-llama-cpp did not open within 1 ms (worker.llama.openTimeoutMs;",
      );
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 30_000);
});
