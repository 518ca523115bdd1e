import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { fileURLToPath } from "node:url";
import { productionPackageDirs } from "../../../harness/docker/rootfs.js";
import { readFileSync } from "node:fs";
import { docker, skipWithoutDocker } from "./gate.js";
import { TEST_IMAGE, ensureTestImage, removeLabelled, waitFor } from "./fixtures.js";
import { runOnce } from "./run-container.js";
import { LABELS } from "../../../harness/docker/labels.js";
import { haproxyBinaryOf } from "../../../harness/docker/images.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

const RUN = `test-images-${process.pid}`;
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));

describe.skipIf(skipWithoutDocker)("faultline images (real engine)", () => {
  beforeAll(async () => ensureTestImage(docker), 180_000);
  afterAll(async () => removeLabelled(docker, RUN), 60_000);

  it("the runtime image's node is this machine's node", async () => {
    expect(await runOnce(docker, TEST_IMAGE, ["--version"])).toEqual({
      exitCode: 0,
      output: `${process.version}\n`,
    });
  });

  it("carries dist/ and exactly the production dependencies", async () => {
    const lock: unknown = JSON.parse(readFileSync(`${projectRoot}/package-lock.json`, "utf8"));
    const script =
      "const fs=require('fs');const mods=fs.readdirSync('/app/node_modules').flatMap(d=>d.startsWith('@')?fs.readdirSync('/app/node_modules/'+d).map(s=>d+'/'+s):[d]);" +
      "console.log(JSON.stringify({mods:mods.sort(),dist:fs.existsSync('/app/dist/reference-service/main.js')}))";
    const run = await runOnce(docker, TEST_IMAGE, ["-e", script]);
    expect(run.exitCode).toBe(0);
    const expected = productionPackageDirs(lock)
      .filter((p) => {
        try {
          readFileSync(`${projectRoot}/${p}/package.json`);
          return true;
        } catch {
          return false;
        }
      })
      .map((p) => p.slice("node_modules/".length))
      .sort();
    expect(JSON.parse(run.output)).toEqual({ mods: expected, dist: true });
  });

  it("every faultline image is labelled for cleanup", async () => {
    const labels = await Promise.all(
      ["runtime", "reference", "toxiproxy"].map(async (k) => {
        const l = (await docker.getImage(`faultline/${k}:test`).inspect()).Config.Labels;
        return [l[LABELS.managed], l[LABELS.image]];
      }),
    );
    expect(labels).toEqual([
      ["true", "runtime"],
      ["true", "reference"],
      ["true", "toxiproxy"],
    ]);
  });

  it("the haproxy image runs this machine's haproxy and accepts its baked-in configuration", async () => {
    const host = await execFileP(haproxyBinaryOf({}), ["-v"]);
    const version = await runOnce(docker, "faultline/haproxy:test", ["-v"]);
    expect([version.exitCode, version.output.split("\n")[0]]).toEqual([0, host.stdout.split("\n")[0]]);
    // -c: checks the configuration; the replicas' names resolve only on a run's network (warnings).
    const check = await runOnce(docker, "faultline/haproxy:test", [
      "-c",
      "-f",
      "/usr/local/etc/haproxy/haproxy.cfg",
    ]);
    expect([check.exitCode, check.output]).toEqual([
      0,
      expect.stringContaining("Configuration file is valid"),
    ]);
    const labels = (await docker.getImage("faultline/haproxy:test").inspect()).Config.Labels;
    expect([labels[LABELS.managed], labels[LABELS.image]]).toEqual(["true", "haproxy"]);
  });

  it("the reference image serves /health/live from a container, and turns healthy", async () => {
    const c = await docker.createContainer({
      Image: "faultline/reference:test",
      Labels: { [LABELS.managed]: "true", [LABELS.run]: RUN },
      HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] }, Init: true },
    });
    await c.start();
    const port = (await c.inspect()).NetworkSettings.Ports["8080/tcp"][0].HostPort;
    let live: unknown = null;
    await waitFor(async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/live`, {
          signal: AbortSignal.timeout(1000),
        });
        live = res.status;
        return res.status === 200;
      } catch {
        return false;
      }
    }, 20_000);
    expect(live).toBe(200);
    // The image's HEALTHCHECK (node healthcheck.js on /health/ready) turns the container healthy.
    await waitFor(async () => (await c.inspect()).State.Health?.Status === "healthy", 20_000);
    expect((await c.inspect()).State.Health?.Status).toBe("healthy");
  }, 60_000);

  it("the toxiproxy image answers /version like the real server", async () => {
    const c = await docker.createContainer({
      Image: "faultline/toxiproxy:test",
      Labels: { [LABELS.managed]: "true", [LABELS.run]: RUN },
      HostConfig: { PortBindings: { "8474/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] }, Init: true },
    });
    await c.start();
    const port = (await c.inspect()).NetworkSettings.Ports["8474/tcp"][0].HostPort;
    let body = "";
    await waitFor(async () => {
      try {
        body = await (
          await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(1000) })
        ).text();
        return true;
      } catch {
        return false;
      }
    }, 20_000);
    expect(Object.keys(JSON.parse(body) as object)).toEqual(["version"]);
  }, 60_000);
});
