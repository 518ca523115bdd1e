import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { systemClock } from "../../common/clock.js";
import { InvalidInputError } from "../../common/errors.js";
import type { Runtime } from "../../common/runtime.js";
import { spawnModule } from "../../common/spawn-module.js";
import { runToxiproxyCommand } from "../../harness/toxiproxy/command.js";

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

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
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

  it("runs standalone as a real process and exits 0 on SIGTERM", async () => {
    child = spawnModule(
      new URL("../../harness/toxiproxy/main.js", import.meta.url),
      ["--port", "0", "--seed", "5"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    const line = JSON.parse(await firstLine(() => out)) as { url: string; seed: number };
    expect(line.seed).toEqual(5);
    const created = await fetch(`${line.url}/proxies`, {
      method: "POST",
      body: JSON.stringify({ name: "p", listen: "127.0.0.1:0", upstream: "127.0.0.1:9" }),
    });
    expect(created.status).toEqual(201);
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toEqual(0);
  });

  it("standalone with a non-loopback host exits 2 with the message on stderr", async () => {
    child = spawnModule(new URL("../../harness/toxiproxy/main.js", import.meta.url), ["--host", "0.0.0.0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child?.once("exit", (c) => resolve(c)));
    expect(code).toEqual(2);
    expect(err).toEqual(
      '--host: refusing to serve the Toxiproxy API on non-loopback host "0.0.0.0" ' +
        "(fix: use --host 127.0.0.1, or add --allow-non-loopback if you really mean to expose it)\n",
    );
  });
});
