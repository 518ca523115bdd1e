import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { systemClock } from "../../../../common/clock.js";
import { InvalidInputError } from "../../../../common/errors.js";
import type { Runtime } from "../../../../common/runtime.js";
import { spawnModule } from "../../../../common/spawn-module.js";
import { runToxiproxyCommand } from "../../../../harness/cli/commands/toxiproxy.js";

function fakeRuntime() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const handlers = new Map<string, () => void>();
  const runtime: Runtime = {
    clock: systemClock,
    env: {},
    cwd: process.cwd(),
    stdout,
    stderr,
    stdin: new PassThrough(),
    onSignal(signal, handler) {
      handlers.set(signal, handler);
      return () => handlers.delete(signal);
    },
  };
  return { runtime, out: () => out, err: () => err, signal: (s: string) => handlers.get(s)?.(), handlers };
}

async function firstLine(read: () => string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!read().includes("\n")) {
    if (Date.now() > deadline) throw new Error("no output line");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return read().split("\n")[0];
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

describe("faultline toxiproxy command", () => {
  it("refuses a non-loopback host, naming the flag and the fix", async () => {
    const fake = fakeRuntime();
    const run = runToxiproxyCommand({ host: "10.1.2.3", port: 8474 }, fake.runtime);
    await expect(run).rejects.toBeInstanceOf(InvalidInputError);
    await expect(run).rejects.toMatchObject({
      issues: [
        {
          path: "--host",
          message: 'refusing to serve the Toxiproxy API on non-loopback host "10.1.2.3"',
          hint: "use --host 127.0.0.1, or add --allow-non-loopback if you really mean to expose it",
        },
      ],
    });
  });

  it("rejects a bad port and seed together", async () => {
    const fake = fakeRuntime();
    const run = runToxiproxyCommand({ host: "127.0.0.1", port: 70_000, seed: 1.5 }, fake.runtime);
    await expect(run).rejects.toMatchObject({
      issues: [
        { path: "--port", message: "port must be an integer 0-65535, got 70000" },
        { path: "--seed", message: "seed must be an integer, got 1.5" },
      ],
    });
  });

  it("an API port in use is reported against --port", async () => {
    const fake = fakeRuntime();
    const first = runToxiproxyCommand({ host: "127.0.0.1", port: 0, seed: 1 }, fake.runtime);
    const { port } = JSON.parse(await firstLine(fake.out)) as { port: number };
    const second = runToxiproxyCommand({ host: "127.0.0.1", port, seed: 1 }, fakeRuntime().runtime);
    await expect(second).rejects.toMatchObject({
      issues: [
        {
          path: "--port",
          message: `127.0.0.1:${port} is already in use`,
          hint: "stop the other server or pick another --port (0 picks a free one)",
        },
      ],
    });
    fake.signal("SIGTERM");
    expect(await first).toEqual(0);
  });

  it("serves the API until SIGTERM, then closes and returns 0", async () => {
    const fake = fakeRuntime();
    const run = runToxiproxyCommand({ host: "127.0.0.1", port: 0, seed: 9 }, fake.runtime);
    const line = JSON.parse(await firstLine(fake.out)) as { url: string; port: number; seed: number };
    expect(line.url).toEqual(`http://127.0.0.1:${line.port}`);
    expect(line.seed).toEqual(9);
    expect(await (await fetch(`${line.url}/version`)).text()).toEqual('{"version": "2.12.0"}\n');
    expect([...fake.handlers.keys()].sort()).toEqual(["SIGINT", "SIGTERM"]);
    fake.signal("SIGTERM");
    expect(await run).toEqual(0);
    expect(fake.handlers.size).toEqual(0);
    await expect(fetch(`${line.url}/version`)).rejects.toThrow();
  });

  it("--config populates proxies at start, like toxiproxy-server -config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fl-toxiproxy-"));
    try {
      const file = join(dir, "proxies.json");
      await writeFile(
        file,
        JSON.stringify([{ name: "from_config", listen: "127.0.0.1:0", upstream: "127.0.0.1:9" }]),
      );
      const fake = fakeRuntime();
      const run = runToxiproxyCommand({ host: "127.0.0.1", port: 0, seed: 1, config: file }, fake.runtime);
      const line = JSON.parse(await firstLine(fake.out)) as { url: string };
      const proxies = (await (await fetch(`${line.url}/proxies`)).json()) as Record<
        string,
        { enabled: boolean }
      >;
      expect(Object.entries(proxies).map(([n, p]) => [n, p.enabled])).toEqual([["from_config", true]]);
      expect(fake.err().split("\n")[0]).toEqual(`faultline toxiproxy: populated 1 proxies from ${file}`);
      fake.signal("SIGINT");
      expect(await run).toEqual(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs standalone as real processes: serves until SIGTERM (exit 0); refuses a non-loopback host (exit 2)", async () => {
    // Both processes start together: under load each tsx start-up takes seconds.
    const entry = new URL("../../../../harness/toxiproxy/main.js", import.meta.url);
    const server = spawnModule(entry, ["--port", "0", "--seed", "5"], { stdio: ["ignore", "pipe", "pipe"] });
    const refused = spawnModule(entry, ["--host", "0.0.0.0"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(server, refused);
    let out = "";
    let err = "";
    server.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    refused.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    const exitOf = (child: ChildProcess): Promise<number | null> =>
      new Promise((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.once("exit", (code) => resolve(code));
      });
    const refusedExit = exitOf(refused);

    const line = JSON.parse(await firstLine(() => out)) as { url: string; seed: number };
    expect(line.seed).toEqual(5);
    const created = await fetch(`${line.url}/proxies`, {
      method: "POST",
      body: JSON.stringify({ name: "p", listen: "127.0.0.1:0", upstream: "127.0.0.1:9" }),
    });
    expect(created.status).toEqual(201);
    const serverExit = exitOf(server);
    server.kill("SIGTERM");
    expect(await serverExit).toEqual(0);

    expect(await refusedExit).toEqual(2);
    expect(err).toEqual(
      '--host: refusing to serve the Toxiproxy API on non-loopback host "0.0.0.0" ' +
        "(fix: use --host 127.0.0.1, or add --allow-non-loopback if you really mean to expose it)\n",
    );
  });
});
