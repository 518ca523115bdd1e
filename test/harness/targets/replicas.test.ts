/**
 * Replicas behind a real HAProxy (Debian's haproxy): a killed replica is marked DOWN and back
 * UP by HAProxy's own health checks, read from HAProxy's own stats; clients going through it
 * see no error meanwhile; a rolling restart takes each replica out and back in turn.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { parseShowStat, type ServerStat } from "../../../harness/targets/haproxy-config.js";
import { runtimeCommand } from "../../../harness/targets/haproxy.js";
import { startReference } from "../../../harness/targets/reference/process.js";
import type { RunningTarget, TargetContext } from "../../../harness/targets/target.js";
import type { RunEvent } from "../../../harness/record/schema.js";
import { skipWithoutHaproxy } from "./haproxy-gate.js";
import { lbOutage } from "../../../harness/faults/kinds/lb-outage.js";
import { replicasKill } from "../../../harness/faults/kinds/replicas-kill.js";
import { readProcStat } from "../../../harness/faults/proc.js";
import type { FaultContext } from "../../../harness/faults/injector.js";

let target: RunningTarget;
let home: string;
const events: RunEvent[] = [];

const targetContext = (runDir: string): TargetContext => ({
  clock: systemClock,
  runDir,
  env: {},
  originMs: () => 0,
  onEvent: (e) => events.push(e),
  link: (_name, upstreamUrl) => Promise.resolve(upstreamUrl),
});
const twoReplicas = {
  kind: "reference",
  options: {},
  restart: "always",
  upstreamLink: false,
  modelSource: false,
  replicas: 2,
} as const;

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

/** One chat through HAProxy; a refused, reset or timed-out request is status 0. */
async function chat(timeoutMs = 20_000): Promise<number> {
  try {
    const res = await request(`${target.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "sim-utility",
        max_tokens: 4,
        messages: [{ role: "user", content: "hi" }],
      }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

function faultContext(): FaultContext {
  return {
    clock: systemClock,
    random: () => 0.5,
    target: target.handles,
    targetName: "lb",
    signal: new AbortController().signal,
    occurrenceId: "lb-test",
  };
}

describe.skipIf(skipWithoutHaproxy)("reference target with 2 replicas behind HAProxy", () => {
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "faultline-replicas-"));
    target = await startReference(twoReplicas, targetContext(home));
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("worker#N is replica N's own worker, a child of api#N", async () => {
    for (const n of [1, 2]) {
      const api = await target.handles.pidOf?.("api", n);
      const worker = await target.handles.pidOf?.("worker", n);
      expect(worker).toBeTypeOf("number");
      const stat = await readFile(`/proc/${String(worker)}/stat`, "utf8");
      expect(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])).toBe(api);
    }
    expect(await target.handles.pidOf?.("worker", 1)).not.toBe(await target.handles.pidOf?.("worker", 2));
  });

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
    // The harness's follower polls HAProxy every 100 ms, so its UP event may trail the read above.
    await until(
      "the UP event in the record",
      () => Promise.resolve(events.some((e) => e.message === "lb: api#1 UP")),
      2_000,
    );
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining(["lb: api#1 DOWN", "lb: api#1 UP"]));
  }, 40_000);

  it("an answer cut mid-stream by a SIGKILLed replica is lost, and the record names that replica and why", async () => {
    // sim-utility streams a token every 10 ms: 300 tokens keep the answer under way ~3 s.
    const res = await request(`${target.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "sim-utility",
        max_tokens: 300,
        stream: true,
        messages: [{ role: "user", content: "a long answer" }],
      }),
    });
    expect(res.statusCode).toBe(200);
    const chunks = res.body[Symbol.asyncIterator]();
    await chunks.next(); // the answer has begun
    const holder = (await stat("api1")).currentSessions > 0 ? 1 : 2;
    expect((await stat(`api${holder}`)).currentSessions).toBe(1);
    events.length = 0;
    const pid = await target.handles.pidOf?.("api", holder);
    process.kill(pid as number, "SIGKILL");
    let body = "";
    try {
      for (let c = await chunks.next(); !c.done; c = await chunks.next())
        body += Buffer.from(c.value as Uint8Array).toString("utf8");
    } catch {
      // A reset mid-stream surfaces as an error: the answer is lost either way.
    }
    // The client never got the end of its answer.
    expect(body).not.toContain("[DONE]");
    const text = `lb: api#${holder} cut 1 answers it had already begun`;
    await until(
      "the cut answer in the record",
      () => Promise.resolve(events.some((e) => e.message.startsWith(text))),
      3_000,
    );
    await until(
      `api${holder} DOWN`,
      async () => (await stat(`api${holder}`)).status.startsWith("DOWN"),
      5_000,
    );
    await until(`api${holder} back UP`, async () => (await stat(`api${holder}`)).status === "UP", 20_000);
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

  it("replicas-kill SIGKILLs every replica at once: HAProxy has none left (both DOWN), then both come back", async () => {
    const before = [await target.handles.pidOf?.("api", 1), await target.handles.pidOf?.("api", 2)];
    events.length = 0;
    const params = replicasKill.params.parse({ windowMs: 0 });
    await replicasKill.inject(params, { ...faultContext(), targetName: "api" });
    for (const pid of before)
      await until(`pid ${String(pid)} gone`, async () => (await readProcStat(pid as number)) === null, 5_000);
    // HAProxy's own checks find no replica left (a stale "UP" read before they run proves nothing).
    await until(
      "both replicas DOWN in HAProxy",
      async () =>
        (await stat("api1")).status.startsWith("DOWN") && (await stat("api2")).status.startsWith("DOWN"),
      5_000,
    );
    await until(
      "both replicas back UP",
      async () => (await stat("api1")).status === "UP" && (await stat("api2")).status === "UP",
      30_000,
    );
    await until(
      "the UP events in the record",
      () =>
        Promise.resolve(["lb: api#1 UP", "lb: api#2 UP"].every((m) => events.some((e) => e.message === m))),
      2_000,
    );
    const messages = events.map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(["lb: api#1 DOWN", "lb: api#2 DOWN"]));
    const after = [await target.handles.pidOf?.("api", 1), await target.handles.pidOf?.("api", 2)];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(await chat()).toBe(200);
  }, 60_000);

  it("lb-outage freeze stops HAProxy (state T): requests wait; revert resumes it and they are answered", async () => {
    const pid = await target.handles.lbPid?.();
    expect(pid).toBeTypeOf("number");
    const params = lbOutage.params.parse({ mode: "freeze" });
    const state = await lbOutage.inject(params, faultContext());
    try {
      // SIGSTOP takes effect when the kernel next schedules HAProxy: wait for the stopped state.
      await until(
        "HAProxy stopped (T)",
        async () => (await readProcStat(pid as number))?.state === "T",
        2_000,
      );
      // The kernel still accepts the connection; nothing answers while HAProxy is stopped.
      const t0 = performance.now();
      expect(await chat(1_000)).toBe(0);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
    } finally {
      await lbOutage.revert(state, { clock: systemClock });
    }
    expect((await readProcStat(pid as number))?.state).not.toBe("T");
    expect(await chat()).toBe(200);
    expect(await target.handles.lbPid?.()).toBe(pid);
  }, 30_000);

  it("lb-outage kill: HAProxy is SIGKILLed, its supervisor starts a new one, and clients are answered again", async () => {
    const pid = await target.handles.lbPid?.();
    events.length = 0;
    const params = lbOutage.params.parse({ mode: "kill" });
    const t0 = performance.now();
    await lbOutage.inject(params, faultContext());
    await until("HAProxy gone", async () => (await readProcStat(pid as number)) === null, 5_000);
    const statuses: number[] = [];
    await until(
      "HAProxy answering again",
      async () => {
        const s = await chat(2_000);
        statuses.push(s);
        return s === 200;
      },
      20_000,
    );
    const outageMs = performance.now() - t0;
    // Every connection to the one balancer fails while it is down: the outage is measured, not hidden.
    expect(statuses[0]).toBe(0);
    const now = await target.handles.lbPid?.();
    expect(now).toBeTypeOf("number");
    expect(now).not.toBe(pid);
    const messages = events.map((e) => e.message);
    expect(messages.some((m) => /^lb: process \d+ killed by SIGKILL; restarting in \d+ ms$/.test(m))).toBe(
      true,
    );
    expect(messages.some((m) => /^lb: process restarted as pid \d+$/.test(m))).toBe(true);
    // The new HAProxy sees both replicas UP again through its own checks.
    await until(
      "both replicas UP in the new HAProxy",
      async () => (await stat("api1")).status === "UP" && (await stat("api2")).status === "UP",
      10_000,
    );
    process.stderr.write(
      `lb-outage kill: clients answered again after ${Math.round(outageMs)} ms (${statuses.length - 1} failed probes)\n`,
    );
  }, 40_000);
});

describe("reference target with replicas when HAProxy is missing", () => {
  it("fails to start naming Debian's haproxy package, and leaves no replica running", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-nohaproxy-"));
    const saved = process.env["FAULTLINE_HAPROXY"];
    process.env["FAULTLINE_HAPROXY"] = "/nonexistent/faultline-no-haproxy";
    const before = new Set(await replicaPids());
    try {
      const started = startReference(twoReplicas, targetContext(dir));
      await expect(started).rejects.toThrow(/HAProxy \(\/nonexistent\/faultline-no-haproxy\) was not found/);
      await expect(started).rejects.toMatchObject({
        hint: expect.stringContaining("apt-get install haproxy"),
      });
      const left = (await replicaPids()).filter((p) => !before.has(p));
      expect(left).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env["FAULTLINE_HAPROXY"];
      else process.env["FAULTLINE_HAPROXY"] = saved;
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Pids of reference-service processes this test process started (its children). */
async function replicaPids(): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid !== process.pid) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes("reference-service/main")) out.push(Number(entry));
  }
  return out;
}
