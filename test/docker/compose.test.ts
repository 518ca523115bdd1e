import { execFile } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { discoverService } from "../../harness/docker/discover.js";
import { freeLoopbackPort } from "../../harness/docker/stack.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { ensureTestImage, waitFor } from "./fixtures.js";

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
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
    expect(ports.length).toBe(5);
    expect(ports.filter((p) => !p.startsWith("127.0.0.1:"))).toEqual([]);
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
    await run(["down", "--remove-orphans", "--timeout", "2"]).catch(() => {});
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
});
