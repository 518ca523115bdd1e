/**
 * Dashboard cost: CPU of this process (load generator + dashboard; the target runs in its own
 * process) during a 1,000 req/s open-model run, with the dashboard attached to an 80x24 TTY
 * versus the same run without it. Runs alternate (off, on, off, on, ...) so a change in the
 * machine's load hits both; the rows give the medians and the added share of one core.
 */
import { once } from "node:events";
import { createInterface } from "node:readline";
import { systemClock } from "../../common/clock.js";
import { spawnModule } from "../../common/spawn-module.js";
import { dashboardSourceFrom, HealthPoller, startDashboard } from "../../harness/dashboard/index.js";
import { compileLoadPlan, startLoad } from "../../harness/load/index.js";
import { row, type BenchRow } from "../service/measure.js";
import { nullTty, silentStdin } from "./fake-tty.js";

export interface DashboardBenchOptions {
  readonly quick?: boolean;
  readonly rate?: number;
  readonly seconds?: number;
  /** Pairs of runs (without, with). */
  readonly pairs?: number;
}

interface RunCost {
  /** CPU time / wall time of this process, in % of one core. */
  readonly cpuPercent: number;
  readonly sent: number;
  readonly frames: number;
}

const NO_CONTROLS = {
  stopGracefully: () => undefined,
  abortNow: () => undefined,
  injectFault: () => Promise.resolve(),
  togglePause: () => false,
};

async function oneRun(url: string, rate: number, seconds: number, withDashboard: boolean): Promise<RunCost> {
  const plan = compileLoadPlan({
    rate,
    duration: seconds * 1000,
    mix: [{ kind: "http", path: "/" }],
    seed: 1,
  });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const load = startLoad(plan, {
    baseUrl: url,
    deadlineMs: 5000,
    maxInFlight: 1024,
    connections: 64,
    warmup: 64,
    // Measure from the time origin: warm-up is the same in both arms and not the dashboard's.
    onStart: () => {
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    },
  });
  const tty = nullTty();
  let frames = 0;
  const health = new HealthPoller({
    metricsUrl: `${url}/metrics`,
    readyUrl: `${url}/health/ready`,
    clock: systemClock,
  });
  const source = dashboardSourceFrom({
    title: "bench",
    load,
    plan,
    plannedMs: plan.durationMs,
    scheduler: null,
    slos: [{ kind: "availability", min: 0.999 }],
    health: () => health.view(),
  });
  const counted = { read: () => (frames++, source.read()) };
  const dash = withDashboard
    ? startDashboard(
        counted,
        NO_CONTROLS,
        { stdout: tty.stdout, stdin: silentStdin(), clock: systemClock },
        { targets: [] },
      )
    : null;
  if (withDashboard) health.start();
  const result = await load.done;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  await dash?.stop();
  await health.stop();
  return { cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, sent: result.columns.length, frames };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function runDashboardBenchmarks(options: DashboardBenchOptions = {}): Promise<BenchRow[]> {
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? (options.quick ? 4 : 10);
  const pairs = options.pairs ?? (options.quick ? 2 : 3);
  const child = spawnModule(new URL("../load/trivial-server.js", import.meta.url), [], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, "line")) as [string];
    lines.close();
    const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    const off: number[] = [];
    const on: number[] = [];
    const added: number[] = [];
    let frames = 0;
    for (let i = 0; i < pairs; i++) {
      const a = await oneRun(url, rate, seconds, false);
      const b = await oneRun(url, rate, seconds, true);
      off.push(a.cpuPercent);
      on.push(b.cpuPercent);
      added.push(b.cpuPercent - a.cpuPercent);
      frames = b.frames;
    }
    return [
      row(
        `dashboard: process CPU at ${rate} req/s with the dashboard (vs without)`,
        median(on),
        "% of a core",
        median(off),
      ),
      row(
        `dashboard: CPU added by the dashboard at ${rate} req/s (median of ${pairs} pairs)`,
        median(added),
        "% of a core",
      ),
      row(`dashboard: frames read per ${seconds}s run (500 ms period)`, frames, "frames"),
      row(
        "dashboard: CPU per frame (added CPU / frames)",
        (median(added) * seconds * 10) / Math.max(1, frames),
        "ms",
      ),
    ];
  } finally {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
}
