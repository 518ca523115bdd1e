import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { isSignalablePid, killChild, killGroup, killPid, ownProcessGroup } from "../../common/safe-kill.js";
import { terminate } from "../../harness/targets/supervised-process.js";

describe("safe-kill never signals a pid it did not get", () => {
  it("refuses 0, 1, negatives, non-integers, undefined and our own pid", () => {
    for (const pid of [0, 1, -1, -5, 2.5, Number.NaN, undefined, null, process.pid]) {
      expect(isSignalablePid(pid)).toBe(false);
    }
    const kill = vi.spyOn(process, "kill");
    try {
      expect(killPid(0, "SIGTERM")).toBe(false);
      expect(killPid(undefined, "SIGTERM")).toBe(false);
      expect(killPid(-1, "SIGTERM")).toBe(false);
      expect(killGroup(ownProcessGroup(), "SIGTERM")).toBe(false);
      expect(killGroup(0, "SIGTERM")).toBe(false);
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
  });

  it("does not signal (or wait on) a child whose spawn failed", async () => {
    const child = spawn("/nonexistent/faultline-safe-kill", [], { stdio: "ignore", detached: true });
    const errored = once(child, "error");
    expect(child.pid).toBeUndefined();
    const kill = vi.spyOn(child, "kill");
    expect(killChild(child, "SIGTERM")).toBe(false);
    await terminate(child, 50);
    expect(kill).not.toHaveBeenCalled();
    await errored;
  });

  it("still signals a real child", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
    await once(child, "spawn");
    expect(killChild(child, "SIGTERM")).toBe(true);
    const [, signal] = (await once(child, "exit")) as [number | null, string | null];
    expect(signal).toBe("SIGTERM");
  });
});
