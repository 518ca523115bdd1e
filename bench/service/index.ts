import { once } from "node:events";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processRuntime } from "../../common/runtime.js";
import type { ModelBackend } from "../../reference-service/backend.js";
import { mergeDeep } from "../../reference-service/config.js";
import { STATE_FILES } from "../../reference-service/contract.js";
import { serveReference, type RunningService } from "../../reference-service/serve.js";
import { FailingBackend, ZeroLatencyBackend, bareChatServer } from "./backends.js";
import { Client, interleaved, percentile, row, type BenchRow } from "./measure.js";

export type { BenchRow } from "./measure.js";

export interface ServiceBenchOptions {
  /** Round trips per path after warm-up. */
  readonly samples?: number;
  /** Worker kills timed; the median is reported. */
  readonly crashes?: number;
}

/** A generation model with no latency at all, so the worker path costs only the IPC and the service. */
export const ZERO_WORKER = {
  preload: "sim-zero",
  models: [
    {
      name: "sim-zero",
      device: "cpu",
      task: "generate",
      sizeBytes: 1024,
      loadMs: 0,
      prefillMs: 0,
      prefillMsPerToken: 0,
      msPerToken: 0,
    },
  ],
};

interface Started {
  readonly svc: RunningService;
  readonly stateDir: string;
}

async function start(dir: string, name: string, config: unknown, backend?: ModelBackend): Promise<Started> {
  const stateDir = join(dir, name);
  const base = {
    port: 0,
    stateDir,
    fallback: { cache: false },
    // Every kill is a first crash: no backoff, no restart budget in the way of repeated kills.
    supervisor: { cooldownMs: 1, budgetRestarts: 1000 },
    worker: ZERO_WORKER,
  };
  const svc = await serveReference(
    { config: mergeDeep(base, config), workerStderr: "ignore", ...(backend ? { backend } : {}) },
    { ...processRuntime(), cwd: dir },
  );
  return { svc, stateDir };
}

async function waitReady(client: Client, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if ((await client.get("/health/ready")) === 200) return;
    await sleep(5);
  }
  throw new Error(`service not ready within ${ms} ms`);
}

const readPid = async (stateDir: string): Promise<number> =>
  Number((await readFile(join(stateDir, STATE_FILES.workerPid), "utf8").catch(() => "0")).trim());

/** kill -9 the worker, then ms until a new worker has written its pid and /health/ready is 200. */
async function crashToReady(s: Started, client: Client): Promise<number> {
  const old = await readPid(s.stateDir);
  const t0 = performance.now();
  process.kill(old, "SIGKILL");
  while (performance.now() - t0 < 30_000) {
    const pid = await readPid(s.stateDir);
    if (pid > 0 && pid !== old && (await client.get("/health/ready")) === 200) return performance.now() - t0;
    await sleep(2);
  }
  throw new Error("worker not back within 30 s of kill -9");
}

/** User+system CPU ticks of `pid` from /proc (Linux), or null when it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** This process's children started as standby workers (`--standby` on their command line). */
function standbyChildren(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, "utf8").includes("--standby"))
        pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * Waits (at most 30 s) until a standby worker of this process exists and has used no CPU for
 * 300 ms: its start-up is over and it waits for its start line. Off Linux: a fixed 2 s.
 */
async function standbyIdle(): Promise<void> {
  if (process.platform !== "linux") return sleep(2000);
  const deadline = performance.now() + 30_000;
  let last: string | null = null;
  let since = performance.now();
  while (performance.now() < deadline) {
    const now = standbyChildren()
      .map((pid) => `${pid}:${cpuTicks(pid)}`)
      .join(",");
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (now !== "" && performance.now() - since >= 300) return;
    await sleep(20);
  }
  throw new Error("no idle standby worker within 30 s");
}

async function listenBare(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = bareChatServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A tmpfs to put a second worker's state dir (and so its spool) on, or null. The spool's
 * syscalls (create, write, rename, read, unlink per frame) are the floor of file IPC, and their
 * cost is the file system's: on this project's ext4 VMs they are most of the round trip.
 */
const TMPFS_DIR = process.platform === "linux" && existsSync("/dev/shm") ? "/dev/shm" : null;

function rows(
  l: Record<"bare" | "full" | "open" | "worker", { p50: number; p99: number }>,
  crashMs: number[],
  okOpen: number,
  onTmpfs: { p50: number } | null,
): BenchRow[] {
  const crash = [...crashMs].sort((a, b) => a - b);
  const tmpfsRows = onTmpfs
    ? [
        row(
          "service: through the worker p50, state dir on tmpfs (vs in-process)",
          onTmpfs.p50,
          "µs",
          l.full.p50,
        ),
        row(
          "service: IPC round trip p50, state dir on tmpfs (worker - in-process)",
          onTmpfs.p50 - l.full.p50,
          "µs",
        ),
      ]
    : [];
  return [
    row(
      "service: full pipeline p50, zero-latency model in-process (vs bare handler)",
      l.full.p50,
      "µs",
      l.bare.p50,
    ),
    row(
      "service: full pipeline p99, zero-latency model in-process (vs bare handler)",
      l.full.p99,
      "µs",
      l.bare.p99,
    ),
    row("service: policy + API overhead p50 (full - bare)", l.full.p50 - l.bare.p50, "µs"),
    row("service: fast-fail p50, breaker open, no fallback (vs full answer)", l.open.p50, "µs", l.full.p50),
    row("service: fast-fail answers that were 503", okOpen, "ratio"),
    row(
      "service: through the worker p50, IPC round trip included (vs in-process)",
      l.worker.p50,
      "µs",
      l.full.p50,
    ),
    row("service: IPC round trip p50 (worker - in-process)", l.worker.p50 - l.full.p50, "µs"),
    ...tmpfsRows,
    row(
      `service: worker crash-to-ready, kill -9 -> /health/ready 200, supervisor.standby on (median of ${crash.length})`,
      percentile(crash, 50),
      "ms",
    ),
  ];
}

/**
 * Reference-service figures, all paths in this one process and interleaved (same machine
 * load): the full API + policy pipeline against a zero-latency in-process model vs a bare
 * handler; fast-fail with the breaker open; the same request through the real worker (the
 * difference is the file-spool IPC round trip); worker crash-to-ready after kill -9.
 */
export async function runServiceBenchmarks(options: ServiceBenchOptions = {}): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "faultline-bench-service-"));
  const shmDir = TMPFS_DIR ? await mkdtemp(join(TMPFS_DIR, "faultline-bench-service-")) : null;
  const bare = await listenBare();
  const parts: Started[] = [];
  const clients: Client[] = [];
  try {
    parts.push(await start(dir, "full", {}, new ZeroLatencyBackend()));
    const breakerOff = {
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 1, halfOpenAfterMs: 3_600_000 },
    };
    const noFallback = { fallback: { cache: false, cpuModel: false, static: false } };
    parts.push(await start(dir, "open", mergeDeep(breakerOff, noFallback), new FailingBackend()));
    // supervisor.standby (off by default): the crash-to-ready row is measured with the spare.
    parts.push(await start(dir, "worker", { supervisor: { standby: true } }));
    const [full, open, worker] = parts;
    const onShm = shmDir ? await start(shmDir, "worker", {}) : null;
    if (onShm) parts.push(onShm);
    clients.push(
      new Client(bare.url),
      new Client(full.svc.url),
      new Client(open.svc.url),
      new Client(worker.svc.url),
    );
    const [cBare, cFull, cOpen, cWorker] = clients;
    const cShm = onShm ? new Client(onShm.svc.url) : null;
    if (cShm) clients.push(cShm);
    await waitReady(cWorker, 30_000);
    if (cShm) await waitReady(cShm, 30_000);
    await cOpen.chat(); // trips the breaker (threshold 1)
    const samples = options.samples ?? 2000;
    const [lBare, lFull, lOpen, lWorker, lShm] = await interleaved(
      cShm ? [cBare, cFull, cOpen, cWorker, cShm] : [cBare, cFull, cOpen, cWorker],
      samples,
    );
    const crashMs: number[] = [];
    for (let i = 0; i < (options.crashes ?? 3); i++) {
      // Each kill hits a service that has run a while: its standby worker (supervisor.standby)
      // has loaded and waits. A kill within the spare's own start-up (about 0.5 s under tsx on
      // a quiet machine, seconds on a loaded one) would restart into a spare still loading.
      await standbyIdle();
      crashMs.push(await crashToReady(worker, cWorker));
    }
    const shed = (lOpen.statuses.get(503) ?? 0) / samples;
    return rows({ bare: lBare, full: lFull, open: lOpen, worker: lWorker }, crashMs, shed, lShm ?? null);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(parts.map((p) => p.svc.forceClose()));
    await bare.close();
    await rm(dir, { recursive: true, force: true });
    if (shmDir) await rm(shmDir, { recursive: true, force: true });
  }
}
