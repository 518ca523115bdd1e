import { describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import type { FaultContext, TargetHandles } from "../../../harness/faults/injector.js";
import { replicaOf, resolveVictims, roleOf } from "../../../harness/faults/process-target.js";

/** A fault context over fake handles; pids are this test process's own (it exists, /proc reads it). */
function ctx(targetName: string, replicas: number, pidOf: TargetHandles["pidOf"]): FaultContext {
  return {
    clock: systemClock,
    random: () => 0.5,
    target: { replicas, pidOf },
    targetName,
    signal: new AbortController().signal,
  };
}

describe("replica-addressed process targets", () => {
  it("reads the role and the replica from api#N / worker#N", () => {
    expect(roleOf("api#2")).toBe("api");
    expect(roleOf("worker#1")).toBe("worker");
    expect(replicaOf("api#2")).toBe(2);
    expect(replicaOf("api")).toBeUndefined();
  });

  it("a bare role asks for every replica; api#N for that one only", async () => {
    const asked: (number | undefined)[] = [];
    const pidOf: TargetHandles["pidOf"] = (_role, replica) => {
      asked.push(replica);
      return Promise.resolve(process.pid);
    };
    await resolveVictims(ctx("api", 3, pidOf), "process");
    expect(asked).toEqual([1, 2, 3]);
    asked.length = 0;
    await resolveVictims(ctx("api#2", 3, pidOf), "process");
    expect(asked).toEqual([2]);
  });

  it("replicas sharing one process (upstreamLink: one model server) yield it once", async () => {
    const victims = await resolveVictims(
      ctx("worker", 2, () => Promise.resolve(process.pid)),
      "process",
    );
    expect(victims).toHaveLength(1);
    expect(victims[0]?.pid).toBe(process.pid);
  });
});
