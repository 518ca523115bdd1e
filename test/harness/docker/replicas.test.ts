/**
 * Docker mode's replicas: two API containers behind a HAProxy container built from this
 * machine's haproxy. A crash-killed replica container is marked DOWN and back UP by HAProxy's
 * own health checks, read from HAProxy's own runtime API (published on the host's loopback);
 * clients going through HAProxy see only 200s meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../../common/clock.js";
import type { RunEvent } from "../../../harness/record/schema.js";
import type { TargetContext } from "../../../harness/targets/target.js";
import {
  HAPROXY_CONTAINER_PORTS,
  parseShowStat,
  type ServerStat,
} from "../../../harness/targets/haproxy-config.js";
import { runtimeCommand } from "../../../harness/targets/haproxy.js";
import { containerKill } from "../../../harness/faults/kinds/container-kill.js";
import { LABELS } from "../../../harness/docker/labels.js";
import { removeRunResources } from "../../../harness/docker/resources.js";
import { startDockerTarget, type DockerRunningTarget } from "../../../harness/docker/target.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { ensureTestImage } from "./fixtures.js";

const RUN = `tr${process.pid}`;
const PROJECT = `faultline-${RUN}`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** One chat through HAProxy; a refused, reset or timed-out request is status 0. */
async function chat(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "sim-utility",
        max_tokens: 4,
        messages: [{ role: "user", content: "hi" }],
      }),
      signal: AbortSignal.timeout(20_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

describe.skipIf(skipWithoutDocker)(
  "Docker target with 2 replicas behind a HAProxy container (real engine)",
  () => {
    const events: RunEvent[] = [];
    let runDir: string;
    let target: DockerRunningTarget;
    /** HAProxy's runtime API as published on the host, found from the container itself. */
    let runtimeApi: { host: string; port: number };

    const stat = async (name: string): Promise<ServerStat> => {
      const found = parseShowStat(await runtimeCommand(runtimeApi, "show stat")).find((s) => s.name === name);
      if (!found) throw new Error(`HAProxy has no server ${name}`);
      return found;
    };
    const faultContext = (targetName: string) => ({
      clock: systemClock,
      random: () => 0,
      target: target.handles,
      targetName,
      signal: new AbortController().signal,
    });

    beforeAll(async () => {
      await ensureTestImage(docker);
      runDir = await mkdtemp(join(tmpdir(), "faultline-docker-replicas-"));
      const ctx: TargetContext = {
        clock: systemClock,
        runDir,
        env: process.env,
        originMs: () => 0,
        onEvent: (e: RunEvent) => void events.push(e),
        link: (_name: string, upstreamUrl: string) => Promise.resolve(upstreamUrl),
      };
      target = await startDockerTarget({ mode: "start", runId: RUN, tag: "test", replicas: 2 }, ctx);
      const lb = await docker.getContainer(`${PROJECT}-lb-1`).inspect();
      const ports = lb.NetworkSettings.Ports as Record<string, { HostPort: string }[] | null>;
      runtimeApi = {
        host: "127.0.0.1",
        port: Number(ports[`${HAPROXY_CONTAINER_PORTS.runtimeApi}/tcp`]?.[0]?.HostPort),
      };
    }, 180_000);
    afterAll(async () => {
      await target?.stop();
      await removeRunResources(docker, RUN);
      await rm(runDir, { recursive: true, force: true });
    }, 60_000);

    it("runs two API containers and HAProxy, labelled with the run; clients talk to HAProxy", async () => {
      const names = (await docker.listContainers({ filters: { label: [`${LABELS.run}=${RUN}`] } }))
        .map((c) => (c.Names[0] ?? "").replace(/^\//, ""))
        .sort();
      expect(names).toEqual([`${PROJECT}-api-1`, `${PROJECT}-api-2`, `${PROJECT}-lb-1`]);
      expect(target.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await chat(target.url)).toBe(200);
      expect([(await stat("api1")).status, (await stat("api2")).status]).toEqual(["UP", "UP"]);
    });

    it("container:api#2 and container:lb name one container each", async () => {
      const handle = target.handles.docker!;
      const [api2, lb] = await Promise.all([handle.containerOf("api#2"), handle.containerOf("lb")]);
      expect((await docker.getContainer(api2).inspect()).Name).toBe(`/${PROJECT}-api-2`);
      expect((await docker.getContainer(lb).inspect()).Name).toBe(`/${PROJECT}-lb-1`);
      await expect(handle.containerOf("api#3")).rejects.toThrow(/no single container 3 of service "api"/);
    });

    it("HAProxy's own stats show a crash-killed replica container marked DOWN and back UP; clients see only 200s", async () => {
      const downsBefore = (await stat("api1")).downTransitions;
      const state = await containerKill.inject(
        containerKill.params.parse({}),
        faultContext("container:api#1"),
      );
      expect(state.name).toBe(`${PROJECT}-api-1`);
      const statuses: number[] = [];
      await until(
        "api1 DOWN in HAProxy",
        async () => {
          statuses.push(await chat(target.url));
          return (await stat("api1")).status.startsWith("DOWN");
        },
        10_000,
      );
      // The engine's restart policy brings the container back; HAProxy's checks put it back UP.
      await until(
        "api1 back UP in HAProxy",
        async () => {
          statuses.push(await chat(target.url));
          return (await stat("api1")).status === "UP";
        },
        30_000,
      );
      expect((await stat("api1")).downTransitions).toBe(downsBefore + 1);
      expect((await stat("api2")).status).toBe("UP");
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      // The target's follower turns the same transitions into run events, and the engine's into its own.
      await until("events", () => Promise.resolve(events.some((e) => e.message === "lb: api#1 UP")), 5_000);
      const messages = events.map((e) => e.message);
      expect(messages).toContain("container api#1: died (exit 137)");
      expect(messages).toContain("lb: api#1 DOWN");
    }, 60_000);

    it("stop writes HAProxy's final stats and log to the run directory and removes every container", async () => {
      await target.stop();
      const csv = await readFile(join(runDir, "haproxy-stat.csv"), "utf8");
      expect(parseShowStat(csv).map((s) => s.name)).toEqual(["api1", "api2"]);
      expect(await readFile(join(runDir, "haproxy-metrics.txt"), "utf8")).toContain("haproxy_server_status");
      expect(await readFile(join(runDir, "haproxy.log"), "utf8")).toMatch(/replicas\/api\d/);
      const left = [
        (await docker.listContainers({ all: true, filters: { label: [`${LABELS.run}=${RUN}`] } })).length,
        (await docker.listNetworks({ filters: { label: [`${LABELS.run}=${RUN}`] } })).length,
      ];
      expect(left).toEqual([0, 0]);
    }, 60_000);
  },
);
