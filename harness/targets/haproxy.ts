import { spawn } from "node:child_process";
import type { WriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { RunNotPossibleError } from "../../common/errors.js";
import { BACKEND, haproxyConfig, parseShowStat, serverName, type ServerStat } from "./haproxy-config.js";
import { recordChild } from "../faults/started.js";
import { withParentDeathSignal } from "../../common/parent-death.js";
import { openLog, pipeToLog } from "./process-io.js";
import { CONTAINER_LIKE_POLICY } from "./restart-policy.js";
import { SupervisedProcess } from "./supervised-process.js";
import type { TargetContext } from "./target.js";

/** The HAProxy binary: FAULTLINE_HAPROXY, else `haproxy` on PATH (Debian's haproxy package). */
const haproxyBin = (): string => process.env["FAULTLINE_HAPROXY"] || "haproxy";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

/** A free loopback port (HAProxy cannot report an ephemeral port back, so one is picked first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Where HAProxy's runtime API listens: a unix socket path, or TCP (HAProxy in a container). */
export type RuntimeApi = string | { readonly host: string; readonly port: number };

/** One command on HAProxy's runtime API (the admin stats socket); resolves with its answer. */
export function runtimeCommand(api: RuntimeApi, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const sock = typeof api === "string" ? createConnection(api) : createConnection(api.port, api.host);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`HAProxy runtime API did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.end(`${command}\n`));
    sock.on("data", (d: Buffer) => (out += d.toString("utf8")));
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** HAProxy as the harness sees it, wherever it runs: its view of the replicas and its controls. */
export interface HaproxyView {
  readonly url: string;
  readonly statsUrl: string;
  /** HAProxy's own view of the replicas (`show stat`). */
  stats(): Promise<ServerStat[]>;
  /** Takes replica `n` (1-based) out of rotation for new requests; in-flight ones finish. */
  drain(n: number): Promise<void>;
  /** Puts replica `n` back; HAProxy still waits for its health checks (rise) before using it. */
  ready(n: number): Promise<void>;
  /** Resolves once HAProxy reports replica `n` in `status` (e.g. "UP"), or rejects after timeoutMs. */
  waitStatus(n: number, status: string, timeoutMs: number): Promise<void>;
  /** Resolves once replica `n` holds no session, or after timeoutMs (returns what it still held). */
  waitIdle(n: number, timeoutMs: number): Promise<number>;
  /** Stops following it and writes its final counters to the run directory. */
  stop(): Promise<void>;
}

export interface Haproxy extends HaproxyView {
  readonly socketPath: string;
  readonly proc: SupervisedProcess;
}

/**
 * Starts HAProxy in front of the replicas, supervised like the API processes (the same
 * restart policy, the same SupervisedProcess path), and follows it (`observeHaproxy`).
 */
export async function startHaproxy(
  home: string,
  replicaPorts: readonly number[],
  restart: boolean,
  ctx: TargetContext,
  eventTime: () => number,
): Promise<Haproxy> {
  const frontendPort = await freePort();
  const statsPort = await freePort();
  const socketPath = join(home, "haproxy.sock");
  const configFile = join(home, "haproxy.cfg");
  await writeFile(configFile, haproxyConfig({ frontendPort, statsPort, socketPath, replicaPorts }));
  const log = openLog(join(ctx.runDir, "haproxy.log"));
  const event = (message: string): void => ctx.onEvent({ tMs: eventTime(), kind: "target", message });
  const proc = supervisedHaproxy(configFile, socketPath, log, restart, ctx, event);
  await proc.start();
  let view: HaproxyView;
  try {
    view = await observeHaproxy({
      url: `http://127.0.0.1:${frontendPort}`,
      statsUrl: `http://127.0.0.1:${statsPort}`,
      runtimeApi: socketPath,
      replicas: replicaPorts.length,
      ctx,
      event,
      unreadyHint: `see ${ctx.runDir}/haproxy.log`,
    });
  } catch (e) {
    await proc.stop(STOP_TIMEOUT_MS);
    log.end();
    throw e;
  }
  return {
    ...view,
    socketPath,
    proc,
    stop: async () => {
      await view.stop();
      await proc.stop(STOP_TIMEOUT_MS);
      log.end();
    },
  };
}

export interface ObserveOptions {
  readonly url: string;
  readonly statsUrl: string;
  readonly runtimeApi: RuntimeApi;
  readonly replicas: number;
  readonly ctx: Pick<TargetContext, "runDir">;
  readonly event: (message: string) => void;
  /** Where to look when a replica never comes UP (its log). */
  readonly unreadyHint: string;
  readonly startTimeoutMs?: number;
}

/**
 * Follows a running HAProxy's view of each replica: waits until it sees every replica UP,
 * then turns every status change it reports into a run event ("lb: api#1 DOWN"), so the
 * record shows when the balancer took a replica out and put it back. At stop its Prometheus
 * exposition and `show stat` are written to the run directory (haproxy-metrics.txt,
 * haproxy-stat.csv). Process mode and Docker mode share it.
 */
export async function observeHaproxy(o: ObserveOptions): Promise<HaproxyView> {
  const { runtimeApi, statsUrl, event } = o;
  const stats = async (): Promise<ServerStat[]> =>
    parseShowStat(await runtimeCommand(runtimeApi, "show stat"));
  const statusOf = async (n: number): Promise<ServerStat | undefined> =>
    (await stats()).find((s) => s.name === serverName(n));

  const follower = followStatus(stats, event);
  // All replicas must be UP before load starts (health checks need rise x inter).
  try {
    for (let n = 1; n <= o.replicas; n++) {
      await waitFor(
        async () => (await statusOf(n))?.status === "UP",
        o.startTimeoutMs ?? START_TIMEOUT_MS,
      ).catch(() => {
        throw new RunNotPossibleError(`HAProxy did not see replica api#${n} UP`, o.unreadyHint);
      });
    }
  } catch (e) {
    await follower.stop();
    throw e;
  }

  let stopped = false;
  return {
    url: o.url,
    statsUrl,
    stats,
    drain: async (n) =>
      void (await runtimeCommand(runtimeApi, `set server ${BACKEND}/${serverName(n)} state drain`)),
    ready: async (n) =>
      void (await runtimeCommand(runtimeApi, `set server ${BACKEND}/${serverName(n)} state ready`)),
    waitStatus: (n, status, timeoutMs) =>
      waitFor(async () => (await statusOf(n))?.status === status, timeoutMs),
    waitIdle: async (n, timeoutMs) => {
      let held = 0;
      await waitFor(async () => {
        held = (await statusOf(n))?.currentSessions ?? 0;
        return held === 0;
      }, timeoutMs).catch(() => undefined);
      return held;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await follower.stop();
      await saveStats(o.ctx.runDir, statsUrl, runtimeApi);
    },
  };
}

function supervisedHaproxy(
  configFile: string,
  socketPath: string,
  log: WriteStream,
  restart: boolean,
  ctx: TargetContext,
  event: (message: string) => void,
): SupervisedProcess {
  const bin = haproxyBin();
  // A missing binary is an 'error' event, not an exit: remembered so the start fails at once.
  let spawnError: NodeJS.ErrnoException | null = null;
  return new SupervisedProcess({
    spawn: () => {
      spawnError = null;
      const [file, args] = withParentDeathSignal(bin, ["-db", "-f", configFile]);
      const child = spawn(file, args, {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      child.on("error", (e) => {
        spawnError = e;
        log.write(`haproxy: ${e.message}\n`);
      });
      pipeToLog(child, log);
      return child;
    },
    waitReady: async (child) => {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        if (spawnError !== null) break;
        const ok = await runtimeCommand(socketPath, "show info", 500).then(
          (t) => t.includes("Name: HAProxy"),
          () => false,
        );
        if (ok) return;
        await sleep(50);
      }
      const missing = spawnError?.code === "ENOENT";
      throw new RunNotPossibleError(
        missing
          ? `HAProxy (${bin}) was not found: target.replicas above 1 runs the replicas behind it`
          : `HAProxy (${bin}) did not start`,
        missing
          ? "install Debian's haproxy package (apt-get install haproxy), or set FAULTLINE_HAPROXY to its path"
          : `see ${join(ctx.runDir, "haproxy.log")}`,
      );
    },
    policy: CONTAINER_LIKE_POLICY,
    restart,
    track: (child) => recordChild(ctx.started, "haproxy (load balancer)", child, true),
    clock: ctx.clock,
    onEvent: (message) => event(`lb: ${message}`),
  });
}

/**
 * Follows HAProxy's view of each replica as run events: status changes, and, as they happen,
 * requests it retried or redispatched away from a replica and answers a replica cut after
 * they had begun (the losses it cannot retry). A failed poll (HAProxy itself down) is skipped.
 */
function followStatus(
  stats: () => Promise<ServerStat[]>,
  event: (message: string) => void,
): { stop(): Promise<void> } {
  const last = new Map<string, ServerStat>();
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling) {
      const rows = await stats().catch(() => null);
      for (const r of rows ?? []) {
        const before = last.get(r.name);
        if (before !== undefined) for (const m of statChanges(before, r)) event(m);
        last.set(r.name, r);
      }
      await sleep(POLL_MS);
    }
  };
  const polled = poll();
  return {
    stop: async () => {
      polling = false;
      await polled;
    },
  };
}

const replicaName = (server: string): string => server.replace(/^api/, "api#");
const word = (status: string): string => status.split(" ")[0] ?? status;

/** What changed in HAProxy's counters for one replica between two polls, as event messages. */
export function statChanges(before: ServerStat, now: ServerStat): string[] {
  const name = replicaName(now.name);
  const out: string[] = [];
  if (word(before.status) !== word(now.status)) out.push(`lb: ${name} ${word(now.status)}`);
  const retried = now.retries - before.retries;
  const redispatched = now.redispatches - before.redispatches;
  if (retried > 0 || redispatched > 0) {
    out.push(`lb: ${name}: HAProxy retried ${retried} and redispatched ${redispatched} requests (not lost)`);
  }
  const cut = now.serverAborts - before.serverAborts;
  if (cut > 0) {
    out.push(
      `lb: ${name} cut ${cut} answers it had already begun (HAProxy srv_abrt): lost, no balancer can retry a response already under way`,
    );
  }
  return out;
}

/** Writes HAProxy's final counters to the run directory; best effort (HAProxy may be the fault). */
async function saveStats(runDir: string, statsUrl: string, runtimeApi: RuntimeApi): Promise<void> {
  const metrics = await request(`${statsUrl}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 })
    .then((r) => r.body.text())
    .catch((e: unknown) => `# HAProxy did not answer: ${(e as Error).message}\n`);
  await writeFile(join(runDir, "haproxy-metrics.txt"), metrics);
  const csv = await runtimeCommand(runtimeApi, "show stat").catch(() => "");
  await writeFile(join(runDir, "haproxy-stat.csv"), csv);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every POLL_MS until true; rejects after timeoutMs (real time: it bounds a real process). */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
