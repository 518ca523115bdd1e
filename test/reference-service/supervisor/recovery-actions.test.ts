import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { ModelStatus } from "../../../reference-service/ipc/protocol.js";
import type { SpoolBackend } from "../../../reference-service/ipc/spool-client.js";
import { workerRecoveryActions } from "../../../reference-service/supervisor/recovery-actions.js";
import type { SupervisorState, WorkerSupervisor } from "../../../reference-service/supervisor/supervisor.js";

const model = (
  name: string,
  device: "gpu" | "cpu",
  state: ModelStatus["state"],
  refCount = 0,
): ModelStatus => ({
  name,
  device,
  state,
  sizeBytes: 1,
  refCount,
});

/** Just the fields the actions read of the supervisor and the spool client. */
function fakes() {
  const world = {
    state: "running" as SupervisorState,
    phase: "ready",
    pid: 10,
    clientPid: 10,
    models: [] as ModelStatus[],
    unloaded: [] as string[],
  };
  const supervisor = {
    status: () => ({
      state: world.state,
      heartbeat: { pid: world.pid, phase: world.phase, models: world.models },
    }),
  };
  const spool = {
    workerStatus: () => ({ ok: true, heartbeat: { pid: world.clientPid } }),
    unloadModel: (name: string) => {
      world.unloaded.push(name);
      return Promise.resolve("unloaded");
    },
  };
  const clock = new ManualClock();
  // The fakes carry only what workerRecoveryActions reads; the real classes need a worker process.
  const actions = workerRecoveryActions(
    supervisor as unknown as WorkerSupervisor,
    spool as unknown as SpoolBackend,
    clock,
    50,
  );
  return { world, clock, actions };
}

describe("workerRecoveryActions", () => {
  it("clearGpuCache unloads the idle ready GPU models except the one asked for", async () => {
    const { world, actions } = fakes();
    world.models = [
      model("asked", "gpu", "ready"),
      model("idle", "gpu", "ready"),
      model("busy", "gpu", "ready", 2),
      model("loading", "gpu", "loading"),
      model("cpu", "cpu", "ready"),
    ];
    expect(await actions.clearGpuCache!("asked", new AbortController().signal)).toEqual(["idle"]);
    expect(world.unloaded).toEqual(["idle"]);
  });

  it("waitForWorker polls the injected clock and resolves at the first poll that sees the worker serving", async () => {
    const { world, clock, actions } = fakes();
    world.phase = "loading";
    world.clientPid = 9; // the spool client still sees the dead worker
    let result: boolean | undefined;
    const p = actions.waitForWorker!(2000, new AbortController().signal).then((r) => (result = r));
    await clock.advanceAsync(100);
    world.phase = "ready";
    await clock.advanceAsync(50);
    expect(result).toEqual(undefined); // the client has not seen the new pid yet
    world.clientPid = 10;
    await clock.advanceAsync(49);
    expect(result).toEqual(undefined);
    await clock.advanceAsync(1);
    await p;
    expect([result, clock.monotonic()]).toEqual([true, 200]);
  });

  it("waitForWorker gives up after exactly ms, and at once when the supervisor has given up", async () => {
    const { world, clock, actions } = fakes();
    world.state = "restarting";
    let result: boolean | undefined;
    const p = actions.waitForWorker!(120, new AbortController().signal).then((r) => (result = r));
    await clock.advanceAsync(119);
    expect(result).toEqual(undefined);
    await clock.advanceAsync(1);
    await p;
    expect([result, clock.monotonic()]).toEqual([false, 120]);

    world.state = "given-up";
    expect(await actions.waitForWorker!(5000, new AbortController().signal)).toEqual(false);
    expect(clock.monotonic()).toEqual(120);
  });
});
