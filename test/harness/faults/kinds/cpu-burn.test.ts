import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { cpuBurn, findBurners } from "../../../../harness/faults/kinds/cpu-burn.js";
import { isSameProcess } from "../../../../harness/faults/proc.js";
import { faultContext } from "../helpers.js";

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const gone = async (b: readonly { pid: number; startTime: number }[]) => {
  // SIGKILL is asynchronous: give the kernel a moment to reap (bounded, 2 s).
  for (let i = 0; i < 100; i++) {
    const alive = await Promise.all(b.map((x) => isSameProcess(x.pid, x.startTime)));
    if (!alive.some(Boolean)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
};

describe("cpu-burn: real busy processes on the host", () => {
  it("starts `workers` burners named after the occurrence, which use CPU; revert kills them, twice is fine", async () => {
    const ctx = faultContext({}, "host", "burn1");
    const state = await cpuBurn.inject(cpuBurn.params.parse({ workers: 2, maxSeconds: 30 }), ctx);
    try {
      expect(state.marker).toBe("faultline-burn1");
      expect(state.burners).toHaveLength(2);
      expect((await findBurners("faultline-burn1")).sort()).toEqual(state.burners.map((b) => b.pid).sort());
      const before = await Promise.all(state.burners.map((b) => cpuSeconds(b.pid)));
      await new Promise((r) => setTimeout(r, 500));
      const after = await Promise.all(state.burners.map((b) => cpuSeconds(b.pid)));
      // Busy, not sleeping: each got some CPU (how much depends on what else the shared machine runs).
      for (const [i, a] of after.entries()) expect(a).toBeGreaterThan(before[i] ?? 0);
    } finally {
      await cpuBurn.revert(state, { clock: ctx.clock });
    }
    expect(await gone(state.burners)).toBe(true);
    expect(await findBurners("faultline-burn1")).toEqual([]);
    await cpuBurn.revert(state, { clock: ctx.clock }); // idempotent
  });

  it("revertPending kills a half-done inject's burners from the occurrence id alone", async () => {
    const ctx = faultContext({}, "host", "burn2");
    const p = cpuBurn.params.parse({ workers: 1, maxSeconds: 30 });
    const state = await cpuBurn.inject(p, ctx); // as if the harness died before journalling this
    await cpuBurn.revertPending?.(
      p,
      { occurrenceId: "burn2", targetName: "t", stateDir: null, toxiproxy: null, pids: {} },
      { clock: ctx.clock },
    );
    expect(await gone(state.burners)).toBe(true);
  });

  it("each burner exits on its own after maxSeconds, even without a revert", async () => {
    const ctx = faultContext({}, "host", "burn3");
    const state = await cpuBurn.inject(cpuBurn.params.parse({ workers: 1, maxSeconds: 1 }), ctx);
    try {
      // bash's SECONDS counts whole seconds from start: it ends within 1-2 s.
      await new Promise((r) => setTimeout(r, 2500));
      expect(await findBurners("faultline-burn3")).toEqual([]);
    } finally {
      await cpuBurn.revert(state, { clock: ctx.clock });
    }
  });

  it("refuses bad params naming the field", () => {
    const r = cpuBurn.params.safeParse({ workers: 0 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["workers"]);
    expect(cpuBurn.params.safeParse({ maxSeconds: 7200 }).error?.issues[0]?.path).toEqual(["maxSeconds"]);
    expect(cpuBurn.params.parse({})).toEqual({ maxSeconds: 600 });
  });
});
