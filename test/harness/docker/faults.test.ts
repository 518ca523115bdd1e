import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import type { AnyInjector, FaultContext, JsonValue } from "../../../harness/faults/injector.js";
import { containerKill } from "../../../harness/faults/kinds/container-kill.js";
import { containerMemoryLimit, oomKillsSince } from "../../../harness/faults/kinds/container-memory-limit.js";
import { containerNetworkDisconnect } from "../../../harness/faults/kinds/container-network-disconnect.js";
import { containerPause } from "../../../harness/faults/kinds/container-pause.js";
import { containerRestart } from "../../../harness/faults/kinds/container-restart.js";
import { containerStop } from "../../../harness/faults/kinds/container-stop.js";
import { inspectProbe, waitForRecovery } from "../../../harness/docker/recovery.js";
import { LABELS } from "../../../harness/docker/labels.js";
import { watchProjectEvents } from "../../../harness/docker/events.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { TEST_IMAGE, ensureTestImage, probe, removeLabelled, startServer, waitFor } from "./fixtures.js";
import { runOnce } from "./run-container.js";

const RUN = `test-faults-${process.pid}`;
let seq = 0;

function ctx(): FaultContext {
  return {
    clock: systemClock,
    random: () => 0.5,
    target: {},
    targetName: "container:srv",
    signal: new AbortController().signal,
    occurrenceId: `${RUN}-${++seq}`,
  };
}

async function inject(inj: AnyInjector, params: Record<string, unknown>): Promise<JsonValue> {
  return (await inj.inject(inj.params.parse(params), ctx())) as JsonValue;
}

describe.skipIf(skipWithoutDocker)("container faults (real engine)", () => {
  beforeAll(async () => ensureTestImage(docker), 120_000);
  afterAll(async () => removeLabelled(docker, RUN), 60_000);

  it("kill with restart policy always: down, then running and ready again, measured", async () => {
    const c = await startServer(docker, { runLabel: RUN, restart: "always" });
    await waitFor(async () => (await probe(c)) === "ok", 10_000);
    const before = await c.inspect();
    const fromMs = Date.now();
    const state = await inject(containerKill, { container: c.id });
    expect(state).toEqual({
      id: c.id,
      name: before.Name.slice(1),
      signal: "SIGKILL",
      mode: "crash",
      pid: before.State.Pid,
    });
    const recovery = await waitForRecovery(
      { inspect: inspectProbe(docker, c.id), ready: async () => (await probe(c, 300)) === "ok" },
      {
        clock: systemClock,
        fromMs,
        restartCountBefore: before.RestartCount,
        startedAtBeforeMs: Date.parse(before.State.StartedAt),
        timeoutMs: 15_000,
      },
    );
    expect(recovery.restarts).toBe(1);
    // Docker's first restart waits 100 ms; starting node takes a few hundred more. Only "it
    // came back, and readiness follows running" is asserted; the numbers go in the report.
    expect(recovery.runningAfterMs).not.toBeNull();
    expect(recovery.readyAfterMs! >= recovery.runningAfterMs!).toBe(true);
    process.stderr.write(
      `docker kill recovery: running after ${recovery.runningAfterMs} ms, ready after ${recovery.readyAfterMs} ms\n`,
    );
  }, 30_000);

  it("kill through the engine (docker kill): exit 143 on SIGTERM, and the restart policy does not apply", async () => {
    const c = await startServer(docker, { runLabel: RUN, restart: "always", init: true });
    await inject(containerKill, { container: c.id, signal: "SIGTERM", mode: "engine" });
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    // The server has no SIGTERM handler, and with an init process it is not PID 1, so the
    // default action applies: 128 + 15.
    expect(StatusCode).toBe(143);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await c.inspect();
    expect([after.State.Status, after.RestartCount]).toEqual(["exited", 0]);
  }, 30_000);

  it("pause 5 s: a request sent during the pause stalls until unpause, then succeeds", async () => {
    const c = await startServer(docker, { runLabel: RUN });
    await waitFor(async () => (await probe(c)) === "ok", 10_000);
    const state = await inject(containerPause, { container: c.id });
    expect((await c.inspect()).State.Paused).toBe(true);
    const sent = Date.now();
    const answer = probe(c, 10_000).then((body) => ({ body, ms: Date.now() - sent }));
    await new Promise((r) => setTimeout(r, 5000));
    await containerPause.revert(state as never, { clock: systemClock });
    const { body, ms } = await answer;
    expect(body).toBe("ok");
    // The stall is the thing under test: the answer cannot come before the unpause at 5 s;
    // the upper bound allows for a loaded 2-core machine.
    expect(ms >= 5000 && ms < 8000).toBe(true);
    expect((await c.inspect()).State.Paused).toBe(false);
    // Reverting twice is fine.
    await containerPause.revert(state as never, { clock: systemClock });
  }, 30_000);

  it("memory limit lowered: the growing process is OOM-killed, detected and reported; revert restores", async () => {
    const project = `${RUN}-oom`;
    const messages: string[] = [];
    const stopWatch = await watchProjectEvents(docker, project, (m) => void messages.push(m));
    const c = await startServer(docker, { runLabel: RUN, restart: "no", composeProject: project });
    await waitFor(async () => (await probe(c)) === "ok", 10_000);
    const injectedAt = Date.now();
    const state = (await inject(containerMemoryLimit, { container: c.id, limitMiB: 96 })) as {
      original: unknown;
    };
    expect(state.original).toEqual({ memory: 0, memorySwap: 0 });
    expect((await c.inspect()).HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(await probe(c)).toBe("ok");
    const port = (await c.inspect()).NetworkSettings.Ports["8080/tcp"][0].HostPort;
    await fetch(`http://127.0.0.1:${port}/hog`).then((r) => r.text());
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    expect(StatusCode).toBe(137);
    const report = await oomKillsSince(docker, c.id, injectedAt, Date.now());
    expect(report).toEqual({ oomEvents: 1, oomKilled: true, status: "exited", exitCode: 137 });
    // What the Docker target writes into the run's events: the OOM kill named as such.
    await waitFor(() => Promise.resolve(messages.some((m) => m.startsWith("container srv: died"))), 5000);
    stopWatch();
    expect(messages.filter((m) => /OOM|died/.test(m))).toEqual([
      "container srv: OOMKilled (the kernel's OOM killer ended a process at the memory limit)",
      "container srv: died (exit 137, OOMKilled)",
    ]);
    await containerMemoryLimit.revert(state as never, { clock: systemClock });
    const hc = (await c.inspect()).HostConfig;
    expect([hc.Memory, hc.MemorySwap]).toEqual([2 ** 50, 2 ** 50]);
  }, 40_000);

  it("network disconnect: the service name stops resolving for peers; reconnect restores it with its alias", async () => {
    const net = `${RUN}-net`;
    await docker.createNetwork({ Name: net, Labels: { [LABELS.managed]: "true", [LABELS.run]: RUN } });
    const c = await startServer(docker, { runLabel: RUN, network: net, alias: "svc" });
    const peer = (): Promise<{ exitCode: number; output: string }> =>
      runOnce(
        docker,
        TEST_IMAGE,
        [
          "-e",
          "fetch('http://svc:8080/',{signal:AbortSignal.timeout(1500)}).then(r=>r.text()).then(t=>console.log(t.trim()),e=>console.log(e.cause?.code??e.name))",
        ],
        undefined,
        net,
      );
    await waitFor(async () => (await peer()).output === "ok\n", 10_000);
    const state = await inject(containerNetworkDisconnect, { container: c.id });
    expect(state).toEqual({
      id: c.id,
      name: (await c.inspect()).Name.slice(1),
      occurrenceId: `${RUN}-${seq}`,
      endpoints: [{ network: net, aliases: ["svc"] }],
    });
    expect(Object.keys((await c.inspect()).NetworkSettings.Networks)).toEqual([]);
    expect(await peer()).toEqual({ exitCode: 0, output: "ENOTFOUND\n" });
    await containerNetworkDisconnect.revert(state as never, { clock: systemClock });
    expect(await peer()).toEqual({ exitCode: 0, output: "ok\n" });
    // Reverting twice is fine (already connected).
    await containerNetworkDisconnect.revert(state as never, { clock: systemClock });
  }, 60_000);

  it("stop holds the container down until revert starts it; restart brings a new process", async () => {
    const c = await startServer(docker, { runLabel: RUN });
    await waitFor(async () => (await probe(c)) === "ok", 10_000);
    const stopped = await inject(containerStop, { container: c.id, timeoutSeconds: 1 });
    expect((await c.inspect()).State.Running).toBe(false);
    await containerStop.revert(stopped as never, { clock: systemClock });
    await containerStop.revert(stopped as never, { clock: systemClock });
    await waitFor(async () => (await probe(c)) === "ok", 10_000);
    const startedBefore = (await c.inspect()).State.StartedAt;
    await inject(containerRestart, { container: c.id, timeoutSeconds: 1 });
    const after = await c.inspect();
    expect([after.State.Running, after.State.StartedAt === startedBefore]).toEqual([true, false]);
  }, 40_000);
});
