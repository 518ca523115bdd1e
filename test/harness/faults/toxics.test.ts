import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { Toxiproxy } from "toxiproxy-node-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AnyInjector, TargetHandles } from "../../../harness/faults/injector.js";
import { netBandwidth } from "../../../harness/faults/kinds/net-bandwidth.js";
import { netDown } from "../../../harness/faults/kinds/net-down.js";
import { netLatency } from "../../../harness/faults/kinds/net-latency.js";
import { netLimitData } from "../../../harness/faults/kinds/net-limit-data.js";
import { netResetPeer } from "../../../harness/faults/kinds/net-reset-peer.js";
import { netSlicer } from "../../../harness/faults/kinds/net-slicer.js";
import { netSlowClose } from "../../../harness/faults/kinds/net-slow-close.js";
import { netTimeout } from "../../../harness/faults/kinds/net-timeout.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../../harness/toxiproxy/server.js";
import { ManualClock } from "../../../common/clock.js";
import { faultContext } from "./helpers.js";

let toxi: ToxiproxyServer;
let upstream: Server;
let listen: string;
let handles: TargetHandles;
const clock = new ManualClock();

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end("hello from upstream"));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  toxi = await startToxiproxyServer({ host: "127.0.0.1", port: 0, seed: 1 });
  const port = (upstream.address() as AddressInfo).port;
  const proxy = await new Toxiproxy(toxi.url).createProxy({
    name: "api",
    listen: "127.0.0.1:0",
    upstream: `127.0.0.1:${port}`,
  });
  listen = proxy.listen;
  handles = { toxiproxy: { url: toxi.url, links: { api: "api" } } };
});

afterAll(async () => {
  await toxi.close();
  await new Promise((r) => upstream.close(r));
});

afterEach(async () => {
  await fetch(`${toxi.url}/reset`, { method: "POST" });
});

const rawToxics = async (): Promise<unknown> => (await fetch(`${toxi.url}/proxies/api/toxics`)).json();

/** One HTTP GET through the proxy on a fresh connection: elapsed ms and body, or the error code. */
function get(): Promise<{ ms: number; body?: string; error?: string }> {
  const t0 = performance.now();
  return fetch(`http://${listen}/`, { headers: { connection: "close" } }).then(
    async (r) => ({ ms: performance.now() - t0, body: await r.text() }),
    (e: Error & { cause?: { code?: string } }) => ({
      ms: performance.now() - t0,
      error: e.cause?.code ?? e.message,
    }),
  );
}

describe("toxic kinds through the embedded Toxiproxy server and toxiproxy-node-client", () => {
  it.each([
    [netLatency, { latency: 300, jitter: 10 }, "latency", { latency: 300, jitter: 10 }],
    [netBandwidth, { rate: 100 }, "bandwidth", { rate: 100 }],
    [netSlowClose, { delay: 50 }, "slow_close", { delay: 50 }],
    [netTimeout, { timeout: 100 }, "timeout", { timeout: 100 }],
    [netResetPeer, { timeout: 0 }, "reset_peer", { timeout: 0 }],
    [
      netSlicer,
      { average_size: 8, size_variation: 2, delay: 100 },
      "slicer",
      { average_size: 8, size_variation: 2, delay: 100 },
    ],
    [netLimitData, { bytes: 10, stream: "upstream", toxicity: 0.5 }, "limit_data", { bytes: 10 }],
  ] as [AnyInjector, Record<string, unknown>, string, Record<string, number>][])(
    "%#: adds the toxic named after the occurrence, and revert removes it",
    async (injector, params, type, attributes) => {
      const p: unknown = injector.params.parse(params);
      const state: unknown = await injector.inject(p, faultContext(handles, "link:api", "tx1"));
      expect(state).toEqual({ url: toxi.url, proxy: "api", toxic: "faultline-tx1" });
      const stream = (params.stream as string | undefined) ?? "downstream";
      const toxicity = (params.toxicity as number | undefined) ?? 1;
      expect(await rawToxics()).toEqual([{ name: "faultline-tx1", type, stream, toxicity, attributes }]);
      await injector.revert(state, { clock });
      expect(await rawToxics()).toEqual([]);
      await injector.revert(state, { clock }); // already gone: still fine
    },
  );

  it("latency is added to real traffic and gone after revert", async () => {
    const before = await get();
    const state = await netLatency.inject(
      netLatency.params.parse({ latency: 400 }),
      faultContext(handles, "link:api", "lat"),
    );
    const during = await get();
    await netLatency.revert(state, { clock });
    const after = await get();
    expect([before.body, during.body, after.body]).toEqual(Array(3).fill("hello from upstream"));
    // Lower bound is the toxic itself; the upper one only guards against a hang on a busy box.
    expect(during.ms).toBeGreaterThanOrEqual(395);
    expect(during.ms).toBeLessThan(3000);
    expect(after.ms).toBeLessThan(during.ms - 300);
  });

  it("reset_peer makes new connections fail with ECONNRESET", async () => {
    const state = await netResetPeer.inject(
      netResetPeer.params.parse({}),
      faultContext(handles, "link:api", "rst"),
    );
    const err = await new Promise<string>((resolve) => {
      const [host, port] = listen.split(":");
      const s = connect(Number(port), host, () => s.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "?"));
      s.on("close", () => resolve("closed without error"));
    });
    expect(err).toBe("ECONNRESET");
    await netResetPeer.revert(state, { clock });
    expect((await get()).body).toBe("hello from upstream");
  });

  it("net-down refuses connections; revert brings the link back on the same address", async () => {
    const state = await netDown.inject({}, faultContext(handles, "link:api", "down"));
    expect(state).toEqual({
      url: toxi.url,
      proxy: "api",
      listen,
      upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as string,
    });
    expect((await get()).error).toBe("ECONNREFUSED");
    await netDown.revert(state, { clock });
    const proxy = await new Toxiproxy(toxi.url).get("api");
    expect([proxy.enabled, proxy.listen]).toEqual([true, listen]);
    expect((await get()).body).toBe("hello from upstream");
  });

  it("revertPending removes the toxic from the journaled context alone", async () => {
    await netLatency.inject(
      netLatency.params.parse({ latency: 10 }),
      faultContext(handles, "link:api", "pend"),
    );
    await netLatency.revertPending?.(
      netLatency.params.parse({ latency: 10 }),
      {
        occurrenceId: "pend",
        targetName: "link:api",
        stateDir: null,
        toxiproxy: handles.toxiproxy ?? null,
        pids: {},
      },
      { clock },
    );
    expect(await rawToxics()).toEqual([]);
  });

  it("an unknown link and bad attributes are clear errors", async () => {
    await expect(
      netLatency.inject(
        { latency: 1, jitter: 0, stream: "downstream", toxicity: 1 },
        faultContext(handles, "link:db"),
      ),
    ).rejects.toThrow('no link named "db" (known links: api)');
    const bad = netBandwidth.params.safeParse({ rate: 0, stream: "sideways" });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["rate", "stream"]);
  });
});
