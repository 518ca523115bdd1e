/**
 * Child process of the scale benchmark (bench/scale/index.ts): a synthetic game day of
 * `--seconds` at `--rate` requests/s, every request through the load generator's request log
 * in streaming mode and the record writer (requests.bin), then the SLA engine over that file.
 * Prints one JSON line: rows, write and analysis seconds, file size and this process's peak
 * RSS (getrusage maxrss, so it covers every phase). Run alone so its RSS is its own.
 *
 *   node --import tsx bench/scale/run.ts --seconds 14400 --rate 5000 --dir /tmp/x
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { OUTCOME_CODE } from "../../common/outcome.js";
import { RequestLog } from "../../harness/load/request-log.js";
import { RequestsFileWriter, requestsFileSource } from "../../harness/record/requests-stream.js";
import type { SloSpec } from "../../harness/sla/slo.js";
import { analyzeSource } from "../../harness/sla/stream-analyze.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  return v;
}

const seconds = arg("seconds", 14_400);
const rate = arg("rate", 5000);
const dirArg = process.argv.indexOf("--dir");
const dir = dirArg >= 0 ? process.argv[dirArg + 1] : mkdtempSync(path.join(tmpdir(), "faultline-scale-"));
const file = path.join(dir, "requests.bin");
const durationMs = seconds * 1000;
const n = Math.round(seconds * rate);
const gap = 1000 / rate;

/** Deterministic pseudo-random numbers (no Math.random: the bench repeats exactly). */
let state = 20261206;
const rnd = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};

// Faults: one 60 s outage (errors and shed answers) every hour, 10 min into the hour.
const faults = Array.from({ length: Math.floor(seconds / 3600) || 1 }, (_, h) => ({
  id: `outage-${h + 1}`,
  kind: "api-crash",
  startMs: h * 3_600_000 + 600_000,
  endMs: h * 3_600_000 + 660_000,
}));
const inFault = (t: number): boolean => faults.some((f) => t >= f.startMs && t < f.endMs);

// Answers complete out of order: a row finishes `IN_FLIGHT` rows after it was sent (the
// generator's in-flight window), so the streaming log holds the chunks spanning them.
const IN_FLIGHT = 2000;
const t0 = performance.now();
const writer = new RequestsFileWriter(file);
const log = new RequestLog(writer);
let maxChunks = 0;
const finishRow = (row: number): void => {
  const intended = log.intended(row);
  const bad = inFault(intended);
  const r = rnd();
  // Latency: a 20 ms floor plus an exponential tail; a slow minority during outages.
  const latency = 20 + -Math.log(1 - rnd()) * (bad ? 400 : 30);
  const code = bad
    ? r < 0.5
      ? OUTCOME_CODE.error
      : r < 0.8
        ? OUTCOME_CODE.shed
        : OUTCOME_CODE.ok
    : r < 0.002
      ? OUTCOME_CODE.degraded
      : OUTCOME_CODE.ok;
  log.setFirstByte(row, intended + latency * 0.3);
  log.finish(row, intended + latency, code, code === OUTCOME_CODE.ok ? 200 : 503, 512);
};
for (let i = 0; i < n; i++) {
  const intended = i * gap;
  const row = log.add(intended, i % 3);
  log.setSent(row, intended + rnd() * 0.5);
  if (row >= IN_FLIGHT) finishRow(row - IN_FLIGHT);
  if ((i & 0xffff) === 0) maxChunks = Math.max(maxChunks, log.chunksHeld);
}
for (let row = Math.max(0, n - IN_FLIGHT); row < n; row++) finishRow(row);
log.close();
const rows = writer.finish();
const writeS = (performance.now() - t0) / 1000;

const slos: SloSpec[] = [
  { kind: "availability", min: 0.999, level: "full" },
  { kind: "latency", percentile: 99, max: 500, phase: "all" },
  { kind: "latency", percentile: 95, max: 200, from: "service", phase: "during" },
  { kind: "uptime", min: 0.99, window: 10_000 },
  { kind: "time-to-recover", max: 10_000 },
  { kind: "time-to-detect", max: 1000 },
  { kind: "error-budget-burn", target: 0.999, max: 1 },
];
const t1 = performance.now();
const cpu0 = process.cpuUsage();
const file_ = requestsFileSource(file);
let passes = 0;
const report = analyzeSource({
  source: {
    length: file_.length,
    forEachBlock: (visit, only) => {
      passes++;
      file_.forEachBlock(visit, only);
    },
  },
  durationMs,
  faults,
  slos,
  windowMs: 1000,
  threshold: 0.99,
  degradedCountsAsGood: false,
  latencySloMs: 500,
  stabilityMs: 5000,
  budgetSlo: 0.999,
  seed: 1,
});
const analysisS = (performance.now() - t1) / 1000;
const cpu = process.cpuUsage(cpu0);
const analysisCpuS = (cpu.user + cpu.system) / 1e6;
const fileBytes = statSync(file).size;
if (dirArg < 0) rmSync(dir, { recursive: true, force: true });
else rmSync(file, { force: true });

process.stdout.write(
  `${JSON.stringify({
    rows,
    writeS,
    analysisS,
    analysisCpuS,
    passes,
    fileBytes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    maxChunksHeld: maxChunks,
    windows: report.windows.length,
    p99: report.latency.intended.p99,
    availability: report.availability.value,
    timeToRecoverMs: report.faults.map((f) => f.timeToRecoverMs),
  })}\n`,
);
