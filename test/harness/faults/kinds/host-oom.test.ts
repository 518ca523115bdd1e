import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { memoryCgroupOf } from "../../../../harness/faults/cgroup.js";
import { hostOom } from "../../../../harness/faults/kinds/host-oom.js";
import { readProcStat } from "../../../../harness/faults/proc.js";
import { Sandbox, exitOf, faultContext, waitForState } from "../helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const MiB = 1024 * 1024;

describe("host-oom: a real kernel OOM kill through a memory cgroup", () => {
  it("the hog fills the group and the kernel OOM-kills the target; revert removes the group", async () => {
    const child = await sandbox.spawnLoop();
    const pid = child.pid ?? -1;
    const parent = await memoryCgroupOf(pid);
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "oom1");
    const state = await hostOom.inject(hostOom.params.parse({ limitBytes: 48 * MiB }), ctx);
    expect(state.group).toBe(join(parent.dir, "faultline-oom1"));
    expect(await exitOf(child)).toEqual({ code: null, signal: "SIGKILL" });
    // With the target gone the hog fills the group again and the kernel kills it as well.
    expect(await waitForState(state.hog?.pid ?? -1, "gone", 10_000)).toBe("gone");
    // The kernel's own record that the memcg OOM killer acted in this group. Its count is not
    // one per victim (v1 counts each kill event, and a multi-threaded victim yields several),
    // so only "it acted" is knowable; the SIGKILL above came from nobody else.
    const oomControl = await readFile(
      join(state.group, parent.version === 1 ? "memory.oom_control" : "memory.events"),
      "utf8",
    );
    expect(Number(/oom_kill (\d+)/.exec(oomControl)?.[1] ?? 0)).toBeGreaterThan(0);
    expect(state.target.oomScoreAdj).toBe("0");
    await hostOom.revert(state, { clock: ctx.clock });
    expect(await exists(state.group)).toBe(false);
    expect(await readProcStat(state.hog?.pid ?? -1)).toBe(null);
    await hostOom.revert(state, { clock: ctx.clock }); // idempotent
  });

  it("without the hog the target lives under the limit until it grows past it, then the kernel kills it", async () => {
    const child = await sandbox.spawnLoop({
      script:
        'const a = []; process.on("SIGUSR2", () => setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 10));' +
        'setInterval(() => {}, 1000); process.stdout.write("ready\\n");',
    });
    const pid = child.pid ?? -1;
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "oom2");
    const state = await hostOom.inject(hostOom.params.parse({ limitBytes: 32 * MiB, hog: false }), ctx);
    expect([state.hog, state.target.oomScoreAdj]).toEqual([null, null]);
    expect(await waitForState(pid, "gone", 300)).toBe("S"); // idle under the limit: alive
    process.kill(pid, "SIGUSR2"); // now it allocates 8 MiB every 10 ms
    expect(await exitOf(child)).toEqual({ code: null, signal: "SIGKILL" });
    await hostOom.revert(state, { clock: ctx.clock });
    expect(await exists(state.group)).toBe(false);
  });

  it("revertPending kills the hog and removes the group from the occurrence id alone", async () => {
    const child = await sandbox.spawnLoop();
    const pid = child.pid ?? -1;
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "oom3");
    // A limit the hog cannot reach in the few ms before revertPending runs.
    const p = hostOom.params.parse({ limitBytes: 1024 * MiB });
    const state = await hostOom.inject(p, ctx);
    expect((await readProcStat(state.hog?.pid ?? -1))?.pid).toBe(state.hog?.pid);
    await hostOom.revertPending?.(
      p,
      { occurrenceId: "oom3", targetName: "worker", stateDir: null, toxiproxy: null, pids: { worker: pid } },
      { clock: ctx.clock },
    );
    expect(await exists(state.group)).toBe(false);
    expect(await waitForState(state.hog?.pid ?? -1, "gone")).toBe("gone");
    expect(child.exitCode).toBe(null);
    // The surviving target is back in its original group, under no limit of ours.
    expect((await memoryCgroupOf(pid)).dir).toBe((await memoryCgroupOf(process.pid)).dir);
  });
});
