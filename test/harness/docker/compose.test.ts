import { execFile } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { discoverService } from "../../../harness/docker/discover.js";
import { BAKED_HAPROXY_CONFIG } from "../../../harness/docker/images.js";
import { parseShowStat } from "../../../harness/targets/haproxy-config.js";
import { runtimeCommand } from "../../../harness/targets/haproxy.js";
import { freeLoopbackPort } from "../../../harness/docker/stack.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { ensureTestImage, waitFor } from "./fixtures.js";

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const composeFile = `${root}docker-compose.yml`;

interface Service {
  image: string;
  profiles?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
  ports?: string[];
  command?: string[];
  labels?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  networks?: { default: { aliases: string[] } };
}
const compose = parse(readFileSync(composeFile, "utf8")) as { services: Record<string, Service> };

describe("docker-compose.yml", () => {
  it("declares the API, the embedded proxy and its setup by default, the official proxy as a profile", () => {
    const byProfile = Object.entries(compose.services).map(([name, s]) => [name, s.profiles ?? []]);
    expect(byProfile).toEqual([
      ["api", []],
      ["toxiproxy", []],
      ["proxy-setup", []],
      ["toxiproxy-official", ["official-toxiproxy"]],
      ["proxy-setup-official", ["official-toxiproxy"]],
      ["api-2", ["replicas"]],
      ["lb", ["replicas"]],
    ]);
  });

  it("long-running services restart by policy; faultline's own have health checks", () => {
    const s = compose.services;
    expect([s.api.restart, s.toxiproxy.restart, s["toxiproxy-official"].restart]).toEqual([
      "unless-stopped",
      "unless-stopped",
      "unless-stopped",
    ]);
    expect(s.api.healthcheck!.test.at(-1)).toBe("http://127.0.0.1:8080/health/ready");
    expect(s.toxiproxy.healthcheck!.test.at(-1)).toBe("http://127.0.0.1:8474/version");
    expect(s["proxy-setup"].depends_on).toEqual({
      toxiproxy: { condition: "service_healthy" },
      api: { condition: "service_started" },
    });
  });

  it("publishes ports on loopback only", () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBe(8);
    expect(ports.filter((p) => !p.startsWith("127.0.0.1:"))).toEqual([]);
  });

  it("profile replicas: api and api-2 under the aliases HAProxy's baked-in configuration names", () => {
    const s = compose.services;
    expect([s.api.networks?.default.aliases, s["api-2"].networks?.default.aliases]).toEqual([
      ["api-1"],
      ["api-2"],
    ]);
    expect(BAKED_HAPROXY_CONFIG).toContain("server api1 api-1:8080");
    expect(BAKED_HAPROXY_CONFIG).toContain("server api2 api-2:8080");
    expect(s.lb.image).toBe("faultline/haproxy:${FAULTLINE_TAG:-local}");
    // The second replica is the first one but for its alias and its (absent) published port.
    const { networks: _n1, ports: _p1, profiles: _f1, ...api1 } = s.api;
    const { networks: _n2, ports: _p2, profiles: _f2, ...api2 } = s["api-2"];
    expect(api2).toEqual(api1);
  });

  it("every module a service runs exists in the sources (built to dist/)", () => {
    const modules = Object.values(compose.services)
      .flatMap((s) => [...(s.command ?? []), ...(s.healthcheck?.test ?? [])])
      .filter((a) => a.startsWith("/app/dist/"))
      .map((a) => a.replace("/app/dist/", "").replace(/\.js$/, ".ts"));
    expect([...new Set(modules)].filter((m) => !existsSync(`${root}${m}`))).toEqual([]);
  });
});

const composeBin = await execFileP("docker-compose", ["version", "--short"]).then(
  (r) => r.stdout.trim(),
  () => null,
);
const reason = skipWithoutDocker ? "no engine" : composeBin === null ? "docker-compose not installed" : null;
if (reason !== null && !skipWithoutDocker) process.stderr.write(`compose up test skipped: ${reason}\n`);

describe.skipIf(reason !== null)("docker-compose up (real engine)", () => {
  const project = `faultline-compose-${process.pid}`;
  const env: Record<string, string> = {};
  const run = (args: string[]) =>
    execFileP("docker-compose", ["-f", composeFile, "-p", project, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
  afterAll(async () => {
    await run(["--profile", "replicas", "down", "--remove-orphans", "--timeout", "2"]).catch(() => {});
  }, 60_000);

  it("brings up client -> toxiproxy -> api; discovery finds the api by project and service", async () => {
    await ensureTestImage(docker);
    Object.assign(env, {
      FAULTLINE_TAG: "test",
      FAULTLINE_API_PORT: String(await freeLoopbackPort()),
      FAULTLINE_TOXIPROXY_PORT: String(await freeLoopbackPort()),
      FAULTLINE_PROXY_PORT: String(await freeLoopbackPort()),
    });
    await run(["up", "-d"]);
    const viaProxy = `http://127.0.0.1:${env["FAULTLINE_PROXY_PORT"]}/health/ready`;
    await waitFor(async () => {
      try {
        return (await fetch(viaProxy, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch {
        return false;
      }
    }, 60_000);
    const api = await discoverService(docker, { project, service: "api" });
    expect([api.name, api.project, api.service, api.state]).toEqual([
      `${project}_api_1`,
      project,
      "api",
      "running",
    ]);
  }, 180_000);

  it("profile replicas: HAProxy sees api-1 and api-2 UP and clients reach them through it", async () => {
    Object.assign(env, {
      FAULTLINE_LB_PORT: String(await freeLoopbackPort()),
      FAULTLINE_LB_STATS_PORT: String(await freeLoopbackPort()),
      FAULTLINE_LB_RUNTIME_PORT: String(await freeLoopbackPort()),
    });
    await run(["--profile", "replicas", "up", "-d"]);
    const runtime = { host: "127.0.0.1", port: Number(env["FAULTLINE_LB_RUNTIME_PORT"]) };
    const statuses = async (): Promise<string[]> =>
      parseShowStat(await runtimeCommand(runtime, "show stat").catch(() => "")).map(
        (r) => `${r.name} ${r.status}`,
      );
    await waitFor(async () => (await statuses()).join() === "api1 UP,api2 UP", 60_000);
    const res = await fetch(`http://127.0.0.1:${env["FAULTLINE_LB_PORT"]}/health/ready`);
    expect(res.status).toBe(200);
    // down in afterAll takes the profile's containers too only if named: do it here.
    await run(["--profile", "replicas", "down", "--remove-orphans", "--timeout", "2"]);
  }, 180_000);
});
