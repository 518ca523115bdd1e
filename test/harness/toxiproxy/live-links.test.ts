import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveRandom } from "../../../common/random.js";
import { startToxiproxyServer } from "../../../harness/toxiproxy/server.js";
import {
  api,
  connectTo,
  portOf,
  sleep,
  startEcho,
  startTarget,
  startUpstream,
  uniqueName,
  until,
  type Target,
  type Upstream,
} from "./helpers.js";

/**
 * Toxics changed on live connections: nothing in flight is lost, per-connection state
 * survives updates, proxy restarts drop connections. The seeded-draw cases only make sense
 * for the embedded server (the real one draws from an unseeded source).
 */
const embedded = !process.env.TOXIPROXY_URL;

let target: Target;
let echo: Upstream;
const proxies: string[] = [];

async function createProxy(upstream = echo.address): Promise<{ name: string; port: number }> {
  const name = uniqueName("live");
  proxies.push(name);
  const res = await api(target.url, "POST", "/proxies", { name, listen: "127.0.0.1:0", upstream });
  return { name, port: portOf((JSON.parse(res.text) as { listen: string }).listen) };
}

beforeAll(async () => {
  target = await startTarget(3);
  echo = await startEcho();
});

afterAll(async () => {
  for (const name of proxies) await api(target.url, "DELETE", `/proxies/${name}`);
  await target.close();
  await echo.close();
});

describe("live links", () => {
  it("no byte is lost or reordered while toxics are added, updated and removed mid-stream", async () => {
    const { name, port } = await createProxy();
    const conn = connectTo(port);
    await conn.connected;
    // The writer streams numbered bytes until the toxic churn below is over.
    const pattern = (offset: number, length: number): Buffer =>
      Buffer.from(Array.from({ length }, (_, i) => ((offset + i) * 7) % 256));
    let sent = 0;
    let churning = true;
    const writer = (async () => {
      while (churning) {
        const next = pattern(sent, 4096);
        sent += next.length;
        if (!conn.socket.write(next)) await new Promise((resolve) => conn.socket.once("drain", resolve));
        await sleep(2);
      }
    })();
    const bodies = [
      { name: "lat", type: "latency", stream: "upstream", attributes: { latency: 3 } },
      { name: "bw", type: "bandwidth", attributes: { rate: 2000 } },
      { name: "sl", type: "slicer", attributes: { average_size: 512, size_variation: 100, delay: 100 } },
    ];
    for (let round = 0; round < 4; round++) {
      for (const body of bodies) await api(target.url, "POST", `/proxies/${name}/toxics`, body);
      await sleep(20);
      await api(target.url, "PATCH", `/proxies/${name}/toxics/lat`, { attributes: { latency: 1 } });
      await sleep(20);
      for (const body of bodies) await api(target.url, "DELETE", `/proxies/${name}/toxics/${body.name}`);
      await sleep(10);
    }
    churning = false;
    await writer;
    await until(() => conn.received.data().length >= sent, 10_000);
    expect(sent).toBeGreaterThan(100_000);
    expect(conn.received.data().equals(pattern(0, sent))).toEqual(true);
    conn.socket.destroy();
  });

  it("limit_data counts per connection across an update of the limit", async () => {
    const { name, port } = await createProxy();
    await api(target.url, "POST", `/proxies/${name}/toxics`, {
      type: "limit_data",
      attributes: { bytes: 10 },
    });
    const conn = connectTo(port);
    await conn.connected;
    conn.socket.write("abcdef");
    await until(() => conn.received.data().length === 6);
    await api(target.url, "PATCH", `/proxies/${name}/toxics/limit_data_downstream`, {
      attributes: { bytes: 12 },
    });
    conn.socket.write("ghijklmnop");
    expect((await conn.received.ended).how).toEqual("end");
    expect(conn.received.data().toString()).toEqual("abcdefghijkl");
  });

  it("updating a toxic on an open connection applies to the next data", async () => {
    const { name, port } = await createProxy();
    await api(target.url, "POST", `/proxies/${name}/toxics`, {
      type: "latency",
      attributes: { latency: 1000 },
    });
    const conn = connectTo(port);
    await conn.connected;
    await api(target.url, "PATCH", `/proxies/${name}/toxics/latency_downstream`, {
      attributes: { latency: 0 },
    });
    const start = performance.now();
    conn.socket.write("now");
    await until(() => conn.received.data().length === 3);
    // Nothing was held by the 1000 ms toxic; loopback plus scheduling on a loaded box stays
    // under 300 ms, far from the 1000 ms the old setting would have taken.
    expect(performance.now() - start).toBeLessThan(300);
    conn.socket.destroy();
  });

  it("changing the upstream restarts the proxy (connections dropped); same settings keep them", async () => {
    const { name, port } = await createProxy();
    const conn = connectTo(port);
    await conn.connected;
    conn.socket.write("a");
    await until(() => conn.received.data().length === 1);
    // "localhost:<port>" resolves to the address the proxy already has: no restart.
    const same = await api(target.url, "PATCH", `/proxies/${name}`, {
      listen: `localhost:${port}`,
      upstream: echo.address,
    });
    expect(same.status).toEqual(200);
    conn.socket.write("b");
    await until(() => conn.received.data().length === 2);
    const other = await startEcho();
    try {
      await api(target.url, "PATCH", `/proxies/${name}`, {
        listen: `127.0.0.1:${port}`,
        upstream: other.address,
      });
      expect((await conn.received.ended).how).toEqual("end");
      expect(conn.received.data().toString()).toEqual("ab");
    } finally {
      await other.close();
    }
  });

  it.runIf(embedded)("embedded: proxies may not listen beyond loopback unless allowed", async () => {
    const res = await api(target.url, "POST", "/proxies", {
      name: "fl_wide",
      listen: "0.0.0.0:0",
      upstream: echo.address,
    });
    expect([res.status, (JSON.parse(res.text) as { error: string }).error]).toEqual([
      500,
      "listen tcp: address 0.0.0.0:0: faultline's Toxiproxy listens on loopback only (use 127.0.0.1:<port>, or start it with --allow-non-loopback)",
    ]);
  });

  it.runIf(embedded)(
    "embedded: toxicity draws follow the seed, one per connection and direction",
    async () => {
      const seed = 1234;
      const server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed });
      try {
        const res = await api(server.url, "POST", "/proxies", {
          name: "seeded",
          listen: "127.0.0.1:0",
          upstream: echo.address,
        });
        const port = portOf((JSON.parse(res.text) as { listen: string }).listen);
        await api(server.url, "POST", "/proxies/seeded/toxics", {
          type: "latency",
          toxicity: 0.5,
          attributes: { latency: 120 },
        });
        // Connection i's downstream link draws first from the stream "seeded/<i>/downstream".
        const expected = [1, 2, 3, 4, 5, 6].map((i) => deriveRandom(seed, `seeded/${i}/downstream`)() < 0.5);
        const observed: boolean[] = [];
        for (let i = 0; i < expected.length; i++) {
          const conn = connectTo(port);
          await conn.connected;
          const start = performance.now();
          conn.socket.write("?");
          await until(() => conn.received.data().length === 1);
          // Delayed connections take >= 120 ms, the others a few ms: 60 ms splits them cleanly.
          observed.push(performance.now() - start > 60);
          conn.socket.destroy();
        }
        expect(observed).toEqual(expected);
        expect(new Set(expected).size).toEqual(2);
      } finally {
        await server.close();
      }
    },
  );

  it.runIf(embedded)(
    "embedded: a change stuck behind a peer that stopped reading answers 503 at the handler timeout",
    async () => {
      // When the upstream's writes have stopped draining, the proxy has stopped reading it: the
      // chain behind the paused client is full and the toxic is blocked.
      let blockedSince: number | undefined;
      const flood = await startUpstream((socket) => {
        const block = Buffer.alloc(64 * 1024, 1);
        const pump = (): void => {
          while (socket.write(block));
          blockedSince = performance.now();
          socket.once("drain", () => {
            blockedSince = undefined;
            pump();
          });
        };
        pump();
      });
      const server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1, apiTimeoutMs: 300 });
      try {
        const res = await api(server.url, "POST", "/proxies", {
          name: "f",
          listen: "127.0.0.1:0",
          upstream: flood.address,
        });
        await api(server.url, "POST", "/proxies/f/toxics", { name: "n", type: "noop" });
        const conn = connectTo(portOf((JSON.parse(res.text) as { listen: string }).listen));
        await conn.connected;
        await until(() => conn.received.data().length > 0);
        conn.socket.pause();
        // A fixed 200 ms sleep was too short at load average 12: the buffers were still filling
        // and the DELETE succeeded (204). Wait for the upstream to stay blocked for 500 ms.
        await until(() => blockedSince !== undefined && performance.now() - blockedSince > 500, 15_000);
        // The noop toxic is blocked handing a chunk to a writer that waits for the client to read.
        const start = performance.now();
        const stuck = await api(server.url, "DELETE", "/proxies/f/toxics/n");
        expect([stuck.status, stuck.type, stuck.text]).toEqual([
          503,
          "text/html; charset=utf-8",
          "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>",
        ]);
        expect(performance.now() - start).toBeGreaterThanOrEqual(299);
        conn.socket.destroy();
      } finally {
        await server.close();
        await flood.close();
      }
    },
  );

  it.runIf(embedded)(
    "embedded: /metrics is 404 by default; with proxy metrics it counts bytes per link at close",
    async () => {
      expect((await api(target.url, "GET", "/metrics")).text).toEqual("404 page not found\n");
      const server = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1, proxyMetrics: true });
      try {
        const res = await api(server.url, "POST", "/proxies", {
          name: "m",
          listen: "127.0.0.1:0",
          upstream: echo.address,
        });
        const listen = (JSON.parse(res.text) as { listen: string }).listen;
        const conn = connectTo(portOf(listen));
        await conn.connected;
        conn.socket.write("hello");
        await until(() => conn.received.data().length === 5);
        const before = (await api(server.url, "GET", "/metrics")).text;
        expect(before.split("\n").filter((l) => l.startsWith("toxiproxy_proxy_"))).toEqual([]);
        conn.socket.end();
        const sample = (metric: string, direction: string): string =>
          `toxiproxy_proxy_${metric}_bytes_total{direction="${direction}",proxy="m",listener="${listen}",upstream="${echo.address}"} 5`;
        const expected = [
          sample("received", "upstream"),
          sample("received", "downstream"),
          sample("sent", "upstream"),
          sample("sent", "downstream"),
        ].sort();
        // Counters move only when both links have ended; poll until they appear (at most 1 s).
        let lines: string[] = [];
        async function poll(): Promise<void> {
          const text = (await api(server.url, "GET", "/metrics")).text;
          lines = text
            .split("\n")
            .filter((l) => l.startsWith("toxiproxy_proxy_"))
            .sort();
        }
        for (let i = 0; i < 100 && lines.length < 4; i++) {
          await poll();
          await sleep(10);
        }
        expect(lines).toEqual(expected);
      } finally {
        await server.close();
      }
    },
  );
});
