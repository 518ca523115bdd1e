import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startWithScriptedBackend, type TestService } from "./harness.js";

let t: TestService;
beforeAll(async () => {
  t = await startWithScriptedBackend();
});
afterAll(async () => t.stop());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request with the path sent byte for byte (fetch would re-encode a bad escape). A body given
 * as several parts is sent chunked, one write per part.
 */
function raw(method: string, path: string, body?: string | readonly string[]): Promise<Raw> {
  const url = new URL(t.url);
  const chunked = Array.isArray(body);
  const headers = {
    "content-type": "application/json",
    ...(chunked ? { "transfer-encoding": "chunked" } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString(),
        }),
      );
    });
    req.on("error", reject);
    if (typeof body === "string" || body === undefined) req.end(body);
    else {
      for (const part of body) req.write(part);
      req.end();
    }
  });
}

describe("bad percent-encoding in any path parameter is 400 in OpenAI's shape", () => {
  it.each([
    ["GET", "/v1/models/%E0%A4%A"],
    ["GET", "/v2/models/%ff/ready"],
    ["POST", "/v2/repository/models/%zz/load"],
    ["POST", "/v2/repository/models/%zz/unload"],
  ])("%s %s", async (method, path) => {
    const r = await raw(method, path);
    expect(r.status).toEqual(400);
    const body = JSON.parse(r.body) as { error: { type: string; code: string; message: string } };
    expect(body.error.type).toEqual("invalid_request_error");
    expect(body.error.code).toEqual("invalid_request");
    expect(body.error.message).toMatch(/not valid percent-encoding/);
  });
});

describe("JSON depth is bounded before parsing", () => {
  it("200,000-deep JSON is 400 naming the limit", async () => {
    const r = await post(`${t.url}/v1/chat/completions`, "[".repeat(200_000) + "]".repeat(200_000));
    expect(r.status).toEqual(400);
    const body = (await r.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/nests deeper than 64 levels/);
  });

  it("brackets inside strings do not count", async () => {
    const r = await post(`${t.url}/v1/chat/completions`, {
      model: "sim-utility",
      messages: [{ role: "user", content: "[".repeat(500) }],
    });
    expect(r.status).toEqual(200);
  });
});

describe("405 carries Allow; HEAD works wherever GET does", () => {
  it("a wrong verb on a GET route is 405 with Allow: GET, HEAD", async () => {
    const r = await raw("DELETE", "/v1/models");
    expect(r.status).toEqual(405);
    expect(r.headers.allow).toEqual("GET, HEAD");
  });

  it("a wrong verb on a POST route is 405 with Allow: POST", async () => {
    const r = await raw("GET", "/v1/chat/completions");
    expect(r.status).toEqual(405);
    expect(r.headers.allow).toEqual("POST");
  });

  it.each(["/v1/models", "/health", "/health/live", "/metrics"])(
    "HEAD %s is 200 with no body",
    async (path) => {
      const r = await raw("HEAD", path);
      expect([r.status, r.body]).toEqual([200, ""]);
    },
  );

  it("an unknown route is 404, a bad body type is 400", async () => {
    expect((await raw("GET", "/nope")).status).toEqual(404);
    expect((await raw("POST", "/v1/chat/completions", '"a string"')).status).toEqual(400);
  });

  it("oversized headers are 431, not 500", async () => {
    const url = new URL(t.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: "/health", headers: { "x-big": "a".repeat(20_000) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toEqual(431);
  });
});

describe("a chunked body over the limit (no content-length to refuse early)", () => {
  it("is answered 413 with connection: close, not dropped", async () => {
    // Two chunks: the second takes the body over the default 1 MiB limit.
    const r = await raw("POST", "/v1/chat/completions", [
      `{"model":"sim-utility","messages":[{"role":"user","content":"${"x".repeat(600_000)}`,
      `${"y".repeat(600_000)}"}]}`,
    ]);
    expect(r.status).toEqual(413);
    expect(r.headers.connection).toEqual("close");
    expect((JSON.parse(r.body) as { error: { code: string } }).error.code).toEqual("payload_too_large");
  });
});
