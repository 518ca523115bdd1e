/**
 * Replicas behind a real HAProxy (Debian's haproxy): a killed replica is marked DOWN and back
 * UP by HAProxy's own health checks, read from HAProxy's own stats; clients going through it
 * see no error meanwhile; a rolling restart takes each replica out and back in turn.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { parseShowStat, type ServerStat } from "../../../harness/targets/haproxy-config.js";
import { runtimeCommand } from "../../../harness/targets/haproxy.js";
import { startReference } from "../../../harness/targets/reference.js";
import type { RunningTarget } from "../../../harness/targets/target.js";
import type { RunEvent } from "../../../harness/record/schema.js";

let target: RunningTarget;
let home: string;
const events: RunEvent[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "faultline-replicas-"));
  target = await startReference(
    { kind: "reference", options: {}, restart: "always", upstreamLink: false, replicas: 2 },
    {
      clock: systemClock,
      runDir: home,
      env: {},
      originMs: () => 0,
      onEvent: (e) => events.push(e),
      link: (_name, upstreamUrl) => Promise.resolve(upstreamUrl),
    },
  );
}, 60_000);

afterAll(async () => {
  await target.stop();
  await rm(home, { recursive: true, force: true });
});

async function stat(name: string): Promise<ServerStat> {
  const sock = await haproxySocket();
  const found = parseShowStat(await runtimeCommand(sock, "show stat")).find((s) => s.name === name);
  if (!found) throw new Error(`HAProxy has no server ${name}`);
  return found;
}

/** The adapter's temp home holds haproxy.sock; found from HAProxy's own command line. */
async function haproxySocket(): Promise<string> {
  const pid = await target.handles.lbPid?.();
  if (pid == null) throw new Error("no HAProxy pid");
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
  const cfg = cmdline[cmdline.indexOf("-f") + 1] ?? "";
  return join(cfg, "..", "haproxy.sock");
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

async function chat(): Promise<number> {
  const res = await request(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "sim-utility",
      max_tokens: 4,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  await res.body.dump();
  return res.statusCode;
}

describe("reference target with 2 replicas behind HAProxy", () => {
  it("HAProxy's own stats show a SIGKILLed replica marked DOWN and back UP; clients see only 200s", async () => {
    expect((await stat("api1")).status).toBe("UP");
    const downsBefore = (await stat("api1")).downTransitions;
    const pid = await target.handles.pidOf?.("api", 1);
    expect(pid).toBeTypeOf("number");
    process.kill(pid as number, "SIGKILL");
    const statuses: number[] = [];
    let sawDown = false;
    await until(
      "api1 DOWN in HAProxy",
      async () => {
        statuses.push(await chat());
        sawDown = (await stat("api1")).status.startsWith("DOWN");
        return sawDown;
      },
      5_000,
    );
    await until(
      "api1 back UP in HAProxy",
      async () => {
        statuses.push(await chat());
        return (await stat("api1")).status === "UP";
      },
      20_000,
    );
    expect((await stat("api1")).downTransitions).toBe(downsBefore + 1);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await target.handles.pidOf?.("api", 1)).not.toBe(pid);
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining(["lb: api#1 DOWN", "lb: api#1 UP"]));
  }, 40_000);

  it("a rolling restart of api takes each replica out (DRAIN) and back UP in turn, new pids", async () => {
    const before = [await target.handles.pidOf?.("api", 1), await target.handles.pidOf?.("api", 2)];
    events.length = 0;
    await target.handles.restart?.("api");
    const after = [await target.handles.pidOf?.("api", 1), await target.handles.pidOf?.("api", 2)];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    const lb = events
      .map((e) => e.message)
      .filter((m) => /^lb: api#\d (DRAIN|UP)$/.test(m) || /back UP/.test(m));
    expect(lb.indexOf("lb: api#1 DRAIN")).toBeLessThan(lb.indexOf("api#1: back UP in HAProxy"));
    expect(lb.indexOf("api#1: back UP in HAProxy")).toBeLessThan(lb.indexOf("lb: api#2 DRAIN"));
    expect((await stat("api1")).status).toBe("UP");
    expect((await stat("api2")).status).toBe("UP");
  }, 60_000);
});
