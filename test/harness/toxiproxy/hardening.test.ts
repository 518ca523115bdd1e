import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startEcho, startTarget, uniqueName, type Target, type Upstream } from "./helpers.js";

/**
 * Hostile requests to the embedded server: a deep body is Go's 400, not a stack overflow;
 * 405 carries Allow and HEAD is answered as GET. The last two are deliberate deviations from
 * real 2.12 (documented in harness/toxiproxy/README.md), so they run only against the embedded
 * server; the depth case runs against both.
 */
const embedded = !process.env.TOXIPROXY_URL;
let target: Target;
let echo: Upstream;
const created: string[] = [];

beforeAll(async () => {
  target = await startTarget();
  echo = await startEcho();
});
afterAll(async () => {
  for (const n of created) await api(target.url, "DELETE", `/proxies/${n}`);
  await target.close();
  await echo.close();
});

describe("JSON depth", () => {
  it("200,000-deep JSON on create, update and toxics is 400 'exceeded max depth'", async () => {
    const deep = "[".repeat(200_000);
    const n = uniqueName("deep");
    created.push(n);
    await api(target.url, "POST", "/proxies", { name: n, listen: "127.0.0.1:0", upstream: echo.address });
    for (const [method, path] of [
      ["POST", "/proxies"],
      ["POST", "/populate"],
      ["PATCH", `/proxies/${n}`],
      ["POST", `/proxies/${n}/toxics`],
    ] as const) {
      const res = await api(target.url, method, path, deep);
      // /populate answers its own JSON shape (with "proxies"); the message is the same.
      const error = (JSON.parse(res.text) as { error: string }).error;
      expect([path, res.status, error]).toEqual([
        path,
        400,
        "bad request body: invalid character '[' exceeded max depth",
      ]);
    }
  });
});

describe.runIf(embedded)("embedded: Allow and HEAD", () => {
  it("405 lists the allowed methods", async () => {
    const res = await api(target.url, "PUT", "/proxies");
    expect([res.status, res.headers.get("allow")]).toEqual([405, "GET, POST, HEAD"]);
    const reset = await api(target.url, "GET", "/reset");
    expect([reset.status, reset.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it("HEAD is answered as GET without a body", async () => {
    for (const path of ["/proxies", "/version"]) {
      const res = await api(target.url, "HEAD", path);
      expect([path, res.status, res.text]).toEqual([path, 200, ""]);
    }
  });
});
