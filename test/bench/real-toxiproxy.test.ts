import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openRealToxiproxy } from "../../bench/proxy/real-toxiproxy.js";
import { startToxiproxyServer } from "../../harness/toxiproxy/server.js";

const FAULTLINE = fileURLToPath(new URL("../../bin/faultline.js", import.meta.url));

function echo(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    ),
  );
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(text));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.once("error", reject);
  });
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// The embedded server stands in for a real Toxiproxy here: the bench only uses the API both share.
describe("the proxy bench's real Toxiproxy", () => {
  it("is absent when neither TOXIPROXY_URL nor TOXIPROXY_BIN is set", async () => {
    expect(await openRealToxiproxy(1, {})).toEqual(null);
  });

  it("TOXIPROXY_URL: a proxy to the upstream on that server, deleted again by close", async () => {
    const up = await echo();
    cleanups.push(() => new Promise((r) => up.server.close(r)));
    const server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1 });
    cleanups.push(() => server.close());
    const real = await openRealToxiproxy(up.port, { TOXIPROXY_URL: `${server.url}/` });
    expect(real).not.toEqual(null);
    expect(await roundTrip(real?.port ?? 0, "ping")).toEqual("ping");
    expect(Object.keys((await (await fetch(`${server.url}/proxies`)).json()) as object)).toEqual([
      "faultline-bench",
    ]);
    await real?.close();
    expect(await (await fetch(`${server.url}/proxies`)).json()).toEqual({});
  });

  it("TOXIPROXY_BIN: started on a free loopback port with --host/--port, stopped by close", async () => {
    const up = await echo();
    cleanups.push(() => new Promise((r) => up.server.close(r)));
    const dir = await mkdtemp(join(tmpdir(), "faultline-bin-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const bin = join(dir, "toxiproxy-server");
    await writeFile(bin, `#!/bin/sh\nexec "${process.execPath}" "${FAULTLINE}" toxiproxy "$@"\n`);
    await chmod(bin, 0o755);
    const real = await openRealToxiproxy(up.port, { TOXIPROXY_BIN: bin });
    expect(real?.description).toMatch(/started here, version /);
    expect(await roundTrip(real?.port ?? 0, "pong")).toEqual("pong");
    await real?.close();
    await expect(roundTrip(real?.port ?? 0, "gone")).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);
});
