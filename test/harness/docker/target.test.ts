import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../../common/clock.js";
import type { RunEvent } from "../../../harness/record/schema.js";
import type { TargetContext } from "../../../harness/targets/target.js";
import { containerKill } from "../../../harness/faults/kinds/container-kill.js";
import { containerNetworkDisconnect } from "../../../harness/faults/kinds/container-network-disconnect.js";
import { removeRunResources } from "../../../harness/docker/resources.js";
import { startDockerTarget, type DockerRunningTarget } from "../../../harness/docker/target.js";
import { LABELS } from "../../../harness/docker/labels.js";
import { inspectProbe, waitForRecovery } from "../../../harness/docker/recovery.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { ensureTestImage, waitFor } from "./fixtures.js";

const RUN = `t${process.pid}`;

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).status;
  } catch (e) {
    return (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
  }
}

describe.skipIf(skipWithoutDocker)("Docker target adapter (real engine)", () => {
  const events: RunEvent[] = [];
  let ctx: TargetContext;
  let target: DockerRunningTarget;

  beforeAll(async () => {
    await ensureTestImage(docker);
    // Built apart and then assigned, so the test compiles whether or not TargetContext has
    // gained optional members; `link` passes URLs through (no proxy in these tests).
    const context = {
      clock: systemClock,
      runDir: await mkdtemp(join(tmpdir(), "faultline-docker-run-")),
      env: process.env,
      originMs: () => 0,
      onEvent: (e: RunEvent) => void events.push(e),
      link: (_name: string, upstreamUrl: string) => Promise.resolve(upstreamUrl),
    };
    ctx = context;
    target = await startDockerTarget({ mode: "start", runId: RUN, tag: "test" }, ctx);
  }, 180_000);
  afterAll(async () => {
    await target?.stop();
    await removeRunResources(docker, RUN);
  }, 60_000);

  it("starts the API container on a fixed loopback port and waits until it is ready", async () => {
    expect(target.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await status(`${target.url}/health/ready`)).toBe(200);
    const api = await docker.getContainer(await target.handles.docker!.containerOf("api")).inspect();
    expect([
      api.Name,
      api.Config.Labels["com.docker.compose.project"],
      api.Config.Labels[LABELS.run],
    ]).toEqual([`/faultline-${RUN}-api-1`, `faultline-${RUN}`, RUN]);
  });

  it("a crash kill through the handles: the restart policy brings it back on the same URL, events name it", async () => {
    const before = await docker.getContainer(await target.handles.docker!.containerOf("api")).inspect();
    const fromMs = Date.now();
    await containerKill.inject(containerKill.params.parse({}), {
      clock: systemClock,
      random: () => 0,
      target: target.handles,
      targetName: "container:api",
      signal: new AbortController().signal,
    });
    const recovery = await waitForRecovery(
      {
        inspect: inspectProbe(docker, before.Id),
        ready: async () => (await status(`${target.url}/health/ready`)) === 200,
      },
      {
        clock: systemClock,
        fromMs,
        restartCountBefore: before.RestartCount,
        startedAtBeforeMs: Date.parse(before.State.StartedAt),
        timeoutMs: 30_000,
      },
    );
    expect(recovery.restarts).toBe(1);
    expect(recovery.readyAfterMs).not.toBeNull();
    process.stderr.write(
      `reference API container crash: running after ${recovery.runningAfterMs} ms, ready after ${recovery.readyAfterMs} ms\n`,
    );
    await waitFor(
      () => Promise.resolve(events.filter((e) => e.message === "container api: start").length === 2),
      5000,
    );
    // Lifecycle events only: the recovery watcher's "recovered: ... after it died" line comes
    // when readiness is seen, which may or may not be before this point.
    const messages = events.map((e) => e.message).filter((m) => /: died \(|: start$/.test(m));
    // The first start is the stack coming up (the watcher runs from before it).
    expect(messages).toEqual([
      "container api: start",
      "container api: died (exit 137)",
      "container api: start",
    ]);
  }, 60_000);

  it("a network partition of the API container: clients are refused, then served on the same URL after reconnect", async () => {
    const fctx = {
      clock: systemClock,
      random: () => 0,
      target: target.handles,
      targetName: "container:api",
      signal: new AbortController().signal,
      occurrenceId: `${RUN}-cut`,
    };
    const state = await containerNetworkDisconnect.inject(containerNetworkDisconnect.params.parse({}), fctx);
    expect(state.endpoints).toEqual([{ network: `faultline-${RUN}_default`, aliases: ["api"] }]);
    expect(await status(`${target.url}/health/ready`)).toBe("ECONNREFUSED");
    await containerNetworkDisconnect.revert(state, { clock: systemClock });
    await waitFor(async () => (await status(`${target.url}/health/ready`)) === 200, 10_000);
    expect(await status(`${target.url}/health/ready`)).toBe(200);
  }, 30_000);

  it("attaches to a running project by labels and finds the same URL", async () => {
    const attached = await startDockerTarget(
      { mode: "attach", runId: `${RUN}-attach`, project: `faultline-${RUN}` },
      ctx,
    );
    expect(attached.url).toBe(target.url);
    await attached.stop();
    // Attaching never removes anything.
    expect((await docker.listContainers({ filters: { label: [`${LABELS.run}=${RUN}`] } })).length).toBe(1);
  });

  it("stop removes the containers and the network it created", async () => {
    await target.stop();
    const left = [
      (await docker.listContainers({ all: true, filters: { label: [`${LABELS.run}=${RUN}`] } })).length,
      (await docker.listNetworks({ filters: { label: [`${LABELS.run}=${RUN}`] } })).length,
    ];
    expect(left).toEqual([0, 0]);
  });
});

describe.skipIf(skipWithoutDocker)("Docker target adapter with its toxiproxy container (real engine)", () => {
  const run = `p${process.pid}`;
  afterAll(async () => removeRunResources(docker, run), 60_000);

  it("puts the proxy container between clients and the API and hands its API to the injectors", async () => {
    await ensureTestImage(docker);
    const context = {
      clock: systemClock,
      runDir: await mkdtemp(join(tmpdir(), "faultline-docker-run-")),
      env: process.env,
      originMs: () => 0,
      onEvent: () => {},
      link: (_name: string, upstreamUrl: string) => Promise.resolve(upstreamUrl),
    };
    const t = await startDockerTarget({ mode: "start", runId: run, tag: "test", proxy: true }, context);
    try {
      expect(await status(`${t.proxyUrl!}/health/ready`)).toBe(200);
      expect(t.handles.toxiproxy!.links).toEqual({ "client-api": "api" });
      const proxies = (await (await fetch(`${t.handles.toxiproxy!.url}/proxies`)).json()) as Record<
        string,
        { upstream: string }
      >;
      expect(Object.entries(proxies).map(([name, p]) => [name, p.upstream])).toEqual([["api", "api:8080"]]);
    } finally {
      await t.stop();
    }
  }, 120_000);
});
