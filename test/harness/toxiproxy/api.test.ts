import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Toxiproxy, ToxiproxyError, type Latency } from "toxiproxy-node-client";
import {
  api,
  startEcho,
  startTarget,
  uniqueName,
  portOf,
  connectTo,
  type Target,
  type Upstream,
} from "./helpers.js";

/**
 * HTTP API conformance. Runs against the embedded server, or a real Toxiproxy when
 * TOXIPROXY_URL is set. Expected bodies are the real server's, as recorded in
 * shared/reference/toxiproxy.md. Cases marked "embedded" check our deliberate deviations.
 */
const embedded = !process.env.TOXIPROXY_URL;
const ERROR_TYPE = "text/plain; charset=utf-8";
const errorBody = (error: string, status: number): string => `${JSON.stringify({ error, status })}\n`;

interface ProxyBody {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: unknown[];
}
const proxyBody = (text: string): ProxyBody => JSON.parse(text) as ProxyBody;

let target: Target;
let client: Toxiproxy;
let echo: Upstream;
const created: string[] = [];

function name(prefix: string): string {
  const n = uniqueName(prefix);
  created.push(n);
  return n;
}

beforeAll(async () => {
  target = await startTarget();
  client = new Toxiproxy(target.url);
  echo = await startEcho();
});

afterAll(async () => {
  for (const n of created) await api(target.url, "DELETE", `/proxies/${n}`);
  await target.close();
  await echo.close();
});

describe("proxies", () => {
  it("creates with 201 and the real server's JSON shape, listen resolved to the bound port", async () => {
    const n = name("create");
    const res = await api(target.url, "POST", "/proxies", {
      name: n,
      listen: "127.0.0.1:0",
      upstream: echo.address,
    });
    expect(res.status).toEqual(201);
    expect(res.type).toEqual("application/json");
    const body = proxyBody(res.text);
    expect(portOf(body.listen)).toBeGreaterThan(0);
    expect(res.text).toEqual(
      `{"name":"${n}","listen":"127.0.0.1:${portOf(body.listen)}","upstream":"${echo.address}","enabled":true,"Logger":{},"toxics":[]}`,
    );
    expect(res.headers.get("x-toxiproxy-request-id")).toMatch(/^[0-9a-v]{20}$/);
  });

  it("through the client: create, get, getAll, update (POST), remove", async () => {
    const n = name("client");
    const proxy = await client.createProxy({ name: n, listen: "127.0.0.1:0", upstream: echo.address });
    expect([proxy.name, proxy.upstream, proxy.enabled]).toEqual([n, echo.address, true]);
    const fetched = await client.get(n);
    expect(fetched.listen).toEqual(proxy.listen);
    const all = await client.getAll();
    expect(all[n]?.listen).toEqual(proxy.listen);
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect([disabled.enabled, disabled.listen]).toEqual([false, proxy.listen]);
    await disabled.remove();
    await expect(client.get(n)).rejects.toThrow("Request failed with status code 404");
    await expect(client.get(n)).rejects.toBeInstanceOf(ToxiproxyError);
  });

  it("a disabled proxy keeps listen :0 until enabled; PATCH with a partial body keeps the rest", async () => {
    const n = name("disabled");
    const res = await api(target.url, "POST", "/proxies", {
      name: n,
      listen: "127.0.0.1:0",
      upstream: echo.address,
      enabled: false,
    });
    expect(JSON.parse(res.text)).toEqual({
      name: n,
      listen: "127.0.0.1:0",
      upstream: echo.address,
      enabled: false,
      Logger: {},
      toxics: [],
    });
    const enabled = await api(target.url, "PATCH", `/proxies/${n}`, { enabled: true });
    const body = proxyBody(enabled.text);
    expect([enabled.status, body.enabled, body.upstream]).toEqual([200, true, echo.address]);
    expect(portOf(body.listen)).toBeGreaterThan(0);
  });

  it("a host name in listen is stored resolved (localhost -> 127.0.0.1)", async () => {
    const n = name("localhost");
    const res = await api(target.url, "POST", "/proxies", {
      name: n,
      listen: "localhost:0",
      upstream: echo.address,
    });
    expect(proxyBody(res.text).listen).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
  });

  it("GET /proxies is an object keyed by name, in name order", async () => {
    const b = name("order_b");
    const a = name("order_a");
    for (const n of [b, a])
      await api(target.url, "POST", "/proxies", { name: n, listen: "127.0.0.1:0", upstream: echo.address });
    const res = await api(target.url, "GET", "/proxies");
    const names = Object.keys(JSON.parse(res.text) as Record<string, unknown>).filter(
      (k) => k === a || k === b,
    );
    expect(names).toEqual([a, b]);
  });

  it("DELETE answers 204 with no body, then the proxy is 404", async () => {
    const n = name("delete");
    await api(target.url, "POST", "/proxies", { name: n, listen: "127.0.0.1:0", upstream: echo.address });
    const res = await api(target.url, "DELETE", `/proxies/${n}`);
    expect([res.status, res.text]).toEqual([204, ""]);
    const again = await api(target.url, "GET", `/proxies/${n}`);
    expect([again.status, again.type, again.text]).toEqual([
      404,
      ERROR_TYPE,
      errorBody("proxy not found", 404),
    ]);
  });

  it("errors: blank name, missing upstream, duplicate name, bad JSON, wrong field type", async () => {
    const n = name("dup");
    await api(target.url, "POST", "/proxies", { name: n, listen: "127.0.0.1:0", upstream: echo.address });
    const cases: [unknown, number, string][] = [
      [{ name: "", listen: "127.0.0.1:0", upstream: echo.address }, 400, "missing required field: name"],
      [{ name: "x_no_upstream", listen: "127.0.0.1:0" }, 400, "missing required field: upstream"],
      [{ name: n, listen: "127.0.0.1:0", upstream: echo.address }, 409, "proxy already exists"],
      ["not json", 400, "bad request body: invalid character 'o' in literal null (expecting 'u')"],
      ["", 400, "bad request body: EOF"],
      [
        '{"name": 5}',
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string",
      ],
    ];
    for (const [body, status, error] of cases) {
      const res = await api(target.url, "POST", "/proxies", body);
      expect([res.status, res.type, res.text]).toEqual([status, ERROR_TYPE, errorBody(error, status)]);
    }
    await expect(
      client.createProxy({ name: n, listen: "127.0.0.1:0", upstream: echo.address }),
    ).rejects.toThrow("Request failed with status code 409");
  });

  it("a port already in use is a 500 with Go's bind message", async () => {
    const res = await api(target.url, "POST", "/proxies", {
      name: "fl_busy",
      listen: echo.address,
      upstream: echo.address,
    });
    expect([res.status, res.text]).toEqual([
      500,
      errorBody(`listen tcp ${echo.address}: bind: address already in use`, 500),
    ]);
    expect((await api(target.url, "GET", "/proxies/fl_busy")).status).toEqual(404);
  });

  it("a listen address without a port: 500 with Go's address error, on create and on update", async () => {
    const created = await api(target.url, "POST", "/proxies", {
      name: "fl_badlisten",
      listen: "bad",
      upstream: echo.address,
    });
    expect([created.status, created.text]).toEqual([
      500,
      errorBody("listen tcp: address bad: missing port in address", 500),
    ]);
    const n = name("badupdate");
    await api(target.url, "POST", "/proxies", { name: n, listen: "127.0.0.1:0", upstream: echo.address });
    const updated = await api(target.url, "PATCH", `/proxies/${n}`, { listen: "bad" });
    expect([updated.status, updated.text]).toEqual([
      500,
      errorBody("address bad: missing port in address", 500),
    ]);
    expect(proxyBody((await api(target.url, "GET", `/proxies/${n}`)).text).enabled).toEqual(true);
  });

  it("routing: unknown path 404 text, wrong verb 405 empty, Mozilla user agent 403", async () => {
    const unknown = await api(target.url, "GET", "/nope");
    expect([unknown.status, unknown.type, unknown.text]).toEqual([404, ERROR_TYPE, "404 page not found\n"]);
    const verb = await api(target.url, "PUT", "/proxies");
    expect([verb.status, verb.text]).toEqual([405, ""]);
    const browser = await api(target.url, "GET", "/proxies", undefined, {
      "User-Agent": "Mozilla/5.0 (X11)",
    });
    expect([browser.status, browser.type, browser.text]).toEqual([
      403,
      ERROR_TYPE,
      "User agent not allowed\n",
    ]);
  });

  it("/version is the real server's text, which the client returns unparsed", async () => {
    const text = await client.getVersion();
    if (embedded) expect(text).toEqual('{"version": "2.12.0"}\n');
    else expect(text).toMatch(/^\{"version": "[^"]+"\}\n$/);
    const res = await api(target.url, "GET", "/version");
    expect(res.type).toEqual("application/json;charset=utf-8");
  });
});

describe("populate", () => {
  it("creates proxies in order with 201 and {proxies:[...]}; an identical entry keeps its toxics", async () => {
    const [a, b] = [name("pop_a"), name("pop_b")];
    const entries = [
      { name: a, listen: "127.0.0.1:0", upstream: echo.address },
      { name: b, listen: "127.0.0.1:0", upstream: echo.address, enabled: false },
    ];
    const res = await api(target.url, "POST", "/populate", entries);
    expect([res.status, res.type]).toEqual([201, "application/json"]);
    const proxies = JSON.parse(res.text).proxies as { name: string; enabled: boolean; listen: string }[];
    expect(proxies.map((p) => [p.name, p.enabled])).toEqual([
      [a, true],
      [b, false],
    ]);
    await api(target.url, "POST", `/proxies/${a}/toxics`, { type: "latency", attributes: { latency: 10 } });
    const listenA = (proxies[0] as { listen: string }).listen;
    const again = await client.populate([
      { name: a, listen: listenA, upstream: echo.address, enabled: true },
    ]);
    expect(again[a]?.listen).toEqual(listenA);
    const toxics = JSON.parse((await api(target.url, "GET", `/proxies/${a}/toxics`)).text) as {
      name: string;
    }[];
    expect(toxics.map((t) => t.name)).toEqual(["latency_downstream"]);
  });

  it("checks every entry first: a missing name at entry 2 creates nothing", async () => {
    const a = name("pop_none");
    const res = await api(target.url, "POST", "/populate", [
      { name: a, listen: "127.0.0.1:0", upstream: echo.address },
      { listen: "127.0.0.1:0", upstream: echo.address },
    ]);
    expect([res.status, res.type, res.text]).toEqual([
      400,
      "application/json",
      '{"error":"missing required field: name at proxy 2","status":400,"proxies":null}',
    ]);
    expect((await api(target.url, "GET", `/proxies/${a}`)).status).toEqual(404);
  });

  it("a bind failure keeps the entries applied before it and reports them", async () => {
    const a = name("pop_ok");
    const res = await api(target.url, "POST", "/populate", [
      { name: a, listen: "127.0.0.1:0", upstream: echo.address },
      { name: "fl_pop_busy", listen: echo.address, upstream: echo.address },
    ]);
    const body = JSON.parse(res.text) as { error: string; status: number; proxies: ProxyBody[] };
    expect([res.status, body.error, body.status, body.proxies.map((p) => p.name)]).toEqual([
      500,
      `listen tcp ${echo.address}: bind: address already in use`,
      500,
      [a],
    ]);
  });
});

describe("toxics", () => {
  let proxyName: string;
  beforeAll(async () => {
    proxyName = name("toxics");
    await client.createProxy({ name: proxyName, listen: "127.0.0.1:0", upstream: echo.address });
  });

  const defaults: [string, Record<string, number>][] = [
    ["latency", { latency: 0, jitter: 0 }],
    ["slow_close", { delay: 0 }],
    ["timeout", { timeout: 0 }],
    ["reset_peer", { timeout: 0 }],
    ["limit_data", { bytes: 0 }],
    ["noop", {}],
  ];

  it("each type added with defaults: name <type>_<stream>, downstream, toxicity 1, zero attributes", async () => {
    const proxy = await client.get(proxyName);
    for (const [type, attributes] of defaults) {
      const toxic = await proxy.addToxic({ type, attributes: {} } as never);
      expect(toxic.toJson()).toEqual({
        name: `${type}_downstream`,
        type,
        stream: "downstream",
        toxicity: 1,
        attributes,
      });
      await toxic.remove();
    }
    const bandwidth = await api(target.url, "POST", `/proxies/${proxyName}/toxics`, {
      type: "bandwidth",
      stream: "upstream",
      attributes: { rate: 100 },
    });
    expect([bandwidth.status, bandwidth.text]).toEqual([
      200,
      '{"attributes":{"rate":100},"name":"bandwidth_upstream","type":"bandwidth","stream":"upstream","toxicity":1}',
    ]);
    const slicer = await api(target.url, "POST", `/proxies/${proxyName}/toxics`, {
      type: "slicer",
      attributes: { average_size: 10, size_variation: 2, delay: 5 },
    });
    expect(JSON.parse(slicer.text).attributes).toEqual({ average_size: 10, size_variation: 2, delay: 5 });
    for (const t of ["bandwidth_upstream", "slicer_downstream"]) {
      expect((await api(target.url, "DELETE", `/proxies/${proxyName}/toxics/${t}`)).status).toEqual(204);
    }
  });

  it("list: upstream toxics first, each stream in the order added; stream echoed as sent", async () => {
    for (const body of [
      { name: "d1", type: "latency", stream: "downstream" },
      { name: "u1", type: "latency", stream: "Upstream" },
      { name: "d2", type: "noop" },
      { name: "u2", type: "noop", stream: "upstream" },
    ]) {
      expect((await api(target.url, "POST", `/proxies/${proxyName}/toxics`, body)).status).toEqual(200);
    }
    const list = JSON.parse((await api(target.url, "GET", `/proxies/${proxyName}/toxics`)).text) as {
      name: string;
      stream: string;
    }[];
    expect(list.map((t) => [t.name, t.stream])).toEqual([
      ["u1", "Upstream"],
      ["u2", "upstream"],
      ["d1", "downstream"],
      ["d2", "downstream"],
    ]);
    const proxy = JSON.parse((await api(target.url, "GET", `/proxies/${proxyName}`)).text) as {
      toxics: unknown[];
    };
    expect(proxy.toxics).toEqual(list);
    for (const t of ["d1", "u1", "d2", "u2"])
      await api(target.url, "DELETE", `/proxies/${proxyName}/toxics/${t}`);
  });

  it("update merges attributes and keeps toxicity unless given; name/type/stream cannot change", async () => {
    const proxy = await client.get(proxyName);
    const toxic = await proxy.addToxic<Latency>({
      name: "lat",
      type: "latency",
      stream: "downstream",
      toxicity: 0.5,
      attributes: { latency: 100, jitter: 10 },
    });
    const merged = await api(target.url, "PATCH", `/proxies/${proxyName}/toxics/lat`, {
      attributes: { latency: 300 },
      name: "other",
      stream: "upstream",
    });
    expect(merged.text).toEqual(
      '{"attributes":{"latency":300,"jitter":10},"name":"lat","type":"latency","stream":"downstream","toxicity":0.5}',
    );
    const updated = await toxic.update({
      ...toxic.toJson(),
      toxicity: 1,
      attributes: { latency: 50, jitter: 0 },
    });
    expect(updated.toJson()).toEqual({
      name: "lat",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 50, jitter: 0 },
    });
    expect((await proxy.getToxic<Latency>("lat")).attributes).toEqual({ latency: 50, jitter: 0 });
    await updated.remove();
  });

  it("errors: invalid stream, invalid type (no `down` toxic), duplicate name across streams, missing toxic, bad attribute type", async () => {
    await api(target.url, "POST", `/proxies/${proxyName}/toxics`, {
      name: "taken",
      type: "noop",
      stream: "upstream",
    });
    const path = `/proxies/${proxyName}/toxics`;
    const cases: [string, string, unknown, number, string][] = [
      [
        "POST",
        path,
        { type: "latency", stream: "sideways" },
        400,
        "stream was invalid, can be either upstream or downstream",
      ],
      ["POST", path, { type: "down" }, 400, "invalid toxic type"],
      ["POST", path, { name: "taken", type: "latency", stream: "downstream" }, 409, "toxic already exists"],
      [
        "POST",
        path,
        { type: "latency", attributes: { latency: "1s" } },
        400,
        "bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64",
      ],
      // Go decodes the literal: a fraction or an exponent is not an integer even when its value is.
      [
        "POST",
        path,
        '{"type": "latency", "attributes": {"latency": 1e2}}',
        400,
        "bad request body: json: cannot unmarshal number 1e2 into Go struct field LatencyToxic.attributes.latency of type int64",
      ],
      [
        "POST",
        path,
        '{"type": "latency", "attributes": {"jitter": 1.0}}',
        400,
        "bad request body: json: cannot unmarshal number 1.0 into Go struct field LatencyToxic.attributes.jitter of type int64",
      ],
      ["POST", "/proxies/fl_missing/toxics", { type: "latency" }, 404, "proxy not found"],
      ["GET", `${path}/nope`, undefined, 404, "toxic not found"],
      ["PATCH", `${path}/nope`, { attributes: {} }, 404, "toxic not found"],
      ["DELETE", `${path}/nope`, undefined, 404, "toxic not found"],
    ];
    for (const [method, p, body, status, error] of cases) {
      const res = await api(target.url, method, p, body);
      expect([method, p, res.status, res.text]).toEqual([method, p, status, errorBody(error, status)]);
    }
    await api(target.url, "DELETE", `${path}/taken`);
  });

  it.runIf(embedded)("embedded: rejects attributes the real server would hang or crash on", async () => {
    const path = `/proxies/${proxyName}/toxics`;
    const rate0 = await api(target.url, "POST", path, { type: "bandwidth", attributes: { rate: 0 } });
    expect([rate0.status, JSON.parse(rate0.text).error]).toEqual([
      400,
      "bad request body: invalid bandwidth attributes: rate must be > 0 (KB/s); use a timeout toxic to stop data",
    ]);
    const slicer0 = await api(target.url, "POST", path, { type: "slicer", attributes: { average_size: 0 } });
    expect(slicer0.status).toEqual(400);
    expect(JSON.parse((await api(target.url, "GET", path)).text)).toEqual([]);
  });

  // POST /reset clears every proxy's toxics on the server, so against a shared real server it
  // would break other test files running at the same time (traffic.test.ts mid-test). It runs
  // on the embedded server each file starts for itself, or on a real one declared exclusive.
  const resetIsSafe = embedded || process.env.TOXIPROXY_EXCLUSIVE === "1";
  it.skipIf(!resetIsSafe)(
    "POST /reset removes every toxic and re-enables disabled proxies, deleting none",
    async () => {
      const n = name("reset");
      await api(target.url, "POST", "/proxies", {
        name: n,
        listen: "127.0.0.1:0",
        upstream: echo.address,
        enabled: false,
      });
      await api(target.url, "POST", `/proxies/${proxyName}/toxics`, {
        type: "latency",
        attributes: { latency: 5 },
      });
      const res = await api(target.url, "POST", "/reset");
      expect([res.status, res.text]).toEqual([204, ""]);
      expect(JSON.parse((await api(target.url, "GET", `/proxies/${proxyName}/toxics`)).text)).toEqual([]);
      const proxy = proxyBody((await api(target.url, "GET", `/proxies/${n}`)).text);
      expect(proxy.enabled).toEqual(true);
      const { received, connected, socket } = connectTo(portOf(proxy.listen));
      await connected;
      socket.write("ping");
      await new Promise((resolve) => socket.once("data", resolve));
      socket.destroy();
      expect(received.data().toString()).toEqual("ping");
    },
  );

  it("a fractional or exponent number is a float where the field is one (toxicity 5e-1)", async () => {
    const res = await api(
      target.url,
      "POST",
      `/proxies/${proxyName}/toxics`,
      '{"name": "fl_half", "type": "latency", "toxicity": 5e-1, "attributes": {"latency": 3}}',
    );
    expect(res.status).toEqual(200);
    expect(JSON.parse(res.text)).toMatchObject({
      name: "fl_half",
      toxicity: 0.5,
      attributes: { latency: 3 },
    });
    await api(target.url, "DELETE", `/proxies/${proxyName}/toxics/fl_half`);
  });

  it("listen omitted: a random port (the embedded server keeps it on loopback)", async () => {
    const n = name("nolisten");
    const res = await api(target.url, "POST", "/proxies", { name: n, upstream: echo.address });
    expect(res.status).toEqual(201);
    const proxy = proxyBody(res.text);
    // Real: "[::]:<port>" (every interface). Embedded without --allow-non-loopback: loopback.
    expect(proxy.listen).toMatch(embedded ? /^127\.0\.0\.1:[1-9][0-9]*$/ : /^\[::\]:[1-9][0-9]*$/);
    const { received, connected, socket } = connectTo(portOf(proxy.listen));
    await connected;
    socket.write("ping");
    await new Promise((resolve) => socket.once("data", resolve));
    socket.destroy();
    expect(received.data().toString()).toEqual("ping");
  });
});
