import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cgroupOf } from "../../../../harness/faults/cgroup.js";
import { cpuQuota } from "../../../../harness/faults/kinds/cpu-quota.js";
import { Sandbox, faultContext } from "../helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** CPU seconds `pid` used per wall second over `ms`. */
async function cpuShare(pid: number, ms: number): Promise<number> {
  const c0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((await cpuSeconds(pid)) - c0) / ((performance.now() - t0) / 1000);
}

const BUSY = 'process.stdout.write("ready\\n"); for (;;) {}';

describe("cpu-quota: a real cgroup CPU bandwidth limit", () => {
  it("a busy process gets at most its quota; revert moves it back and removes the group", async () => {
    const child = await sandbox.spawnLoop({ script: BUSY });
    const pid = child.pid ?? -1;
    const home = await cgroupOf(pid, "cpu");
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "cpu1");
    const state = await cpuQuota.inject(cpuQuota.params.parse({ percent: 10 }), ctx);
    expect(state.group).toBe(join(home.dir, "faultline-cpu1"));
    expect((await cgroupOf(pid, "cpu")).dir).toBe(state.group);
    // 10 ms per 100 ms period, whatever else the (shared) machine runs.
    expect(await cpuShare(pid, 1000)).toBeLessThanOrEqual(0.15);
    // The kernel's own record that the quota held it back (not that the machine was busy):
    // periods in which the group used up its quota and was throttled.
    const stat = await readFile(join(state.group, "cpu.stat"), "utf8");
    expect(Number(/nr_throttled (\d+)/.exec(stat)?.[1] ?? 0)).toBeGreaterThan(0);
    await cpuQuota.revert(state, { clock: ctx.clock });
    expect(await exists(state.group)).toBe(false);
    expect((await cgroupOf(pid, "cpu")).dir).toBe(home.dir);
    await cpuQuota.revert(state, { clock: ctx.clock }); // idempotent
  });

  it("revertPending moves the process back and removes the group from the occurrence id alone", async () => {
    const child = await sandbox.spawnLoop();
    const pid = child.pid ?? -1;
    const home = await cgroupOf(pid, "cpu");
    const ctx = faultContext({ pidOf: () => Promise.resolve(pid) }, "worker", "cpu2");
    const p = cpuQuota.params.parse({ percent: 50 });
    const state = await cpuQuota.inject(p, ctx);
    await cpuQuota.revertPending?.(
      p,
      { occurrenceId: "cpu2", targetName: "worker", stateDir: null, toxiproxy: null, pids: { worker: pid } },
      { clock: ctx.clock },
    );
    expect(await exists(state.group)).toBe(false);
    expect((await cgroupOf(pid, "cpu")).dir).toBe(home.dir);
    expect(child.exitCode).toBe(null);
  });

  it("refuses a percent outside 1-1000, naming the field", () => {
    const r = cpuQuota.params.safeParse({ percent: 0 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["percent"]);
  });
});
