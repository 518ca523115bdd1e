import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import { spawnModule } from "../../../common/spawn-module.js";
import { requireAdmin, tokensEqual } from "../../../reference-service/api/admin-auth.js";
import { ApiError } from "../../../reference-service/api/errors.js";
import {
  isLoopbackHost,
  loadConfig,
  parseConfigArgs,
  resolveConfig,
} from "../../../reference-service/config.js";
import { ADMIN_TOKEN_ENV } from "../../../reference-service/contract.js";
import { exposureNotice } from "../../../reference-service/main.js";
import { startService, waitReady, type ServiceProcess } from "../e2e/service-process.js";
import { startWithScriptedBackend, type TestService } from "./harness.js";

const TOKEN = "0123456789abcdef0123456789abcdef";
const RESET = "/v1/reliability/breakers/reset";

let t: TestService | undefined;
let proc: ServiceProcess | undefined;
afterEach(async () => {
  await t?.stop();
  await proc?.cleanup();
  t = undefined;
  proc = undefined;
});

const postTo = (url: string, headers: Record<string, string> = {}) => fetch(url, { method: "POST", headers });

async function answer(r: Response) {
  return {
    status: r.status,
    challenge: r.headers.get("www-authenticate"),
    body: await r.json(),
  };
}

const issuesOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.issues;
    throw e;
  }
  throw new Error("expected InvalidInputError");
};

describe("admin token on the state-changing endpoints", () => {
  it("with a token configured: none is 401 with the bare Bearer challenge, a wrong one 401 invalid_token, the right one 200", async () => {
    t = await startWithScriptedBackend({ adminToken: TOKEN });
    expect(await answer(await postTo(`${t.url}${RESET}`))).toEqual({
      status: 401,
      challenge: 'Bearer realm="faultline-admin"',
      body: {
        error: {
          message:
            "this endpoint changes the service's state and needs 'Authorization: Bearer <admin token>'",
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      },
    });
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, "Bearer"]) {
      const r = await postTo(`${t.url}${RESET}`, { authorization: wrong });
      expect([wrong, await answer(r)]).toEqual([
        wrong,
        {
          status: 401,
          challenge: 'Bearer realm="faultline-admin", error="invalid_token"',
          body: {
            error: {
              message: "the admin token is not valid for this service",
              type: "invalid_request_error",
              param: null,
              code: "invalid_api_key",
            },
          },
        },
      ]);
      expect(r.headers.get("x-should-retry")).toEqual("false");
    }
    // The scheme is case-insensitive (RFC 7235); the token is not.
    const ok = await postTo(`${t.url}${RESET}`, { authorization: `bearer ${TOKEN}` });
    expect([ok.status, await ok.json()]).toEqual([
      200,
      {
        object: "reliability.breakers.reset",
        breakers: [{ name: "worker", was: "closed", state: "closed" }],
      },
    ]);
  });

  it("load/unload are guarded before anything else is looked at (no token: 401 even for an unknown model)", async () => {
    t = await startWithScriptedBackend({ adminToken: TOKEN });
    for (const path of ["/v2/repository/models/sim-utility/load", "/v2/repository/models/nope/unload"])
      expect((await postTo(`${t.url}${path}`)).status).toEqual(401);
    // Past the guard, the scripted backend has no worker to load into: 501, not 401.
    const r = await postTo(`${t.url}/v2/repository/models/sim-utility/load`, {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(r.status).toEqual(501);
    // Reading stays open.
    expect((await fetch(`${t.url}/v1/reliability`)).status).toEqual(200);
    expect((await fetch(`${t.url}/v2/repository/index`, { method: "POST" })).status).toEqual(200);
  });

  it("without a token on loopback the endpoints stay open (a developer's own machine)", async () => {
    t = await startWithScriptedBackend();
    expect((await postTo(`${t.url}${RESET}`)).status).toEqual(200);
  });

  it("compares in constant time over digests, so unequal lengths are just unequal", () => {
    expect([
      tokensEqual(TOKEN, TOKEN),
      tokensEqual(TOKEN, `${TOKEN}0`),
      tokensEqual("", TOKEN),
      tokensEqual(TOKEN.toUpperCase(), TOKEN),
    ]).toEqual([true, false, false, false]);
  });
});

describe("binding a non-loopback host", () => {
  it("is refused without a token or an explicit allowNonLoopback, naming the setting", () => {
    expect(issuesOf(() => resolveConfig({ host: "0.0.0.0" }))).toEqual([
      {
        path: "host",
        message:
          'refusing to listen on non-loopback host "0.0.0.0" without adminToken: it would expose the model API, /metrics and /v1/reliability to the network',
        hint: "use host 127.0.0.1, or set adminToken (env FAULTLINE_ADMIN_TOKEN), or set allowNonLoopback: true (--allow-non-loopback) to expose it without one",
      },
    ]);
    expect(resolveConfig({ host: "0.0.0.0", adminToken: TOKEN }).host).toEqual("0.0.0.0");
    expect(resolveConfig({ host: "::", allowNonLoopback: true }).allowNonLoopback).toEqual(true);
    expect(issuesOf(() => resolveConfig({ adminToken: "short" }))).toEqual([
      {
        path: "adminToken",
        message: "use at least 16 characters (e.g. openssl rand -hex 32)",
      },
    ]);
  });

  it("knows loopback by name and address", () => {
    const hosts = [
      "127.0.0.1",
      "127.1.2.3",
      "localhost",
      "::1",
      "[::1]",
      "0.0.0.0",
      "::",
      "10.0.0.1",
      "127.0.0.1.nip.io",
    ];
    expect(hosts.map(isLoopbackHost)).toEqual([true, true, true, true, true, false, false, false, false]);
  });

  it("takes the token from FAULTLINE_ADMIN_TOKEN under flags, and --allow-non-loopback as a bare flag", async () => {
    expect((await loadConfig([], { [ADMIN_TOKEN_ENV]: TOKEN })).adminToken).toEqual(TOKEN);
    const flag = `${TOKEN}-flag`;
    expect((await loadConfig(["--admin-token", flag], { [ADMIN_TOKEN_ENV]: TOKEN })).adminToken).toEqual(
      flag,
    );
    expect(parseConfigArgs(["--allow-non-loopback", "--port", "0"]).overrides).toEqual({
      allowNonLoopback: true,
      port: 0,
    });
    expect(parseConfigArgs(["--port", "0", "--allow-non-loopback"]).overrides).toEqual({
      allowNonLoopback: true,
      port: 0,
    });
  });

  it("says on one line what an allowed non-loopback bind exposes", () => {
    const base = resolveConfig({});
    expect(exposureNotice(base)).toBeNull();
    expect(exposureNotice({ ...base, host: "0.0.0.0", allowNonLoopback: true })).toEqual(
      "faultline reference service: listening on non-loopback host 0.0.0.0: the model API, /metrics and /v1/reliability are open to the network; state-changing endpoints refused (no adminToken)",
    );
  });

  it("with allowNonLoopback and no token, the state-changing endpoints are refused (403) on that host", () => {
    // The guard reads config.host; a real bind on 0.0.0.0 would put a test on the network.
    const config = resolveConfig({ host: "0.0.0.0", allowNonLoopback: true });
    const refusal = (() => {
      try {
        requireAdmin(config, {});
      } catch (e) {
        return e instanceof ApiError ? [e.status, e.code, e.message] : e;
      }
      return "allowed";
    })();
    expect(refusal).toEqual([
      403,
      "admin_disabled",
      "state-changing endpoints are disabled on a non-loopback host without an admin token; start the service with adminToken set (env FAULTLINE_ADMIN_TOKEN)",
    ]);
    expect(() =>
      requireAdmin({ ...config, adminToken: TOKEN }, { authorization: `Bearer ${TOKEN}` }),
    ).not.toThrow();
  });

  it("the real service process exits 2 with the refusal when asked for 0.0.0.0 without a token", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fl-admin-"));
    try {
      const child = spawnModule(
        new URL("../../../reference-service/main.js", import.meta.url),
        ["--host", "0.0.0.0", "--port", "0", "--state-dir", join(dir, "state")],
        { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, [ADMIN_TOKEN_ENV]: "" } },
      );
      let err = "";
      let out = "";
      child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect([code, out]).toEqual([2, ""]);
      expect(err).toEqual(
        "faultline reference service: invalid configuration\n" +
          'host: refusing to listen on non-loopback host "0.0.0.0" without adminToken: it would expose the model API, /metrics and /v1/reliability to the network (fix: use host 127.0.0.1, or set adminToken (env FAULTLINE_ADMIN_TOKEN), or set allowNonLoopback: true (--allow-non-loopback) to expose it without one)\n',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the real service with FAULTLINE_ADMIN_TOKEN: unload 401 without it, 200 with it; its status names the worker", async () => {
    proc = await startService([], undefined, { env: { [ADMIN_TOKEN_ENV]: TOKEN } });
    await waitReady(proc.url, 20_000);
    const unload = `${proc.url}/v2/repository/models/sim-utility/unload`;
    expect((await postTo(unload)).status).toEqual(401);
    const r = await postTo(unload, { authorization: `Bearer ${TOKEN}` });
    expect([r.status, await r.json()]).toEqual([200, { name: "sim-utility", state: "unloaded" }]);
    // The reliability status of a real service carries its supervised worker.
    const status = (await (await fetch(`${proc.url}/v1/reliability`)).json()) as { worker: unknown };
    expect(status.worker).toMatchObject({
      pid: await proc.workerPid(),
      state: "running",
      restarts: 0,
      restartBudget: { restarts: 10, windowMs: 60_000 },
    });
  });
});
