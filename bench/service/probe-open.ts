// Ad-hoc probe (not part of npm run bench): sequential chats, breaker open (argv[2] "open") or full answers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processRuntime } from "../../common/runtime.js";
import { serveReference } from "../../reference-service/serve.js";
import { FailingBackend, ZeroLatencyBackend } from "./backends.js";
import { ZERO_WORKER } from "./index.js";
import { Client, percentile } from "./measure.js";

const open = process.argv[2] === "open";
const dir = await mkdtemp(join(tmpdir(), "probe-"));
const svc = await serveReference(
  {
    config: {
      port: 0,
      stateDir: join(dir, "w"),
      // The catalog names sim-zero, the model the benchmark asks for (else every answer is a 404).
      worker: ZERO_WORKER,
      fallback: { cache: false, ...(open ? { cpuModel: false, static: false } : {}) },
      ...(open
        ? { retry: { maxRetries: 0 }, breaker: { failureThreshold: 1, halfOpenAfterMs: 3_600_000 } }
        : {}),
    },
    workerStderr: "ignore",
    backend: open ? new FailingBackend() : new ZeroLatencyBackend(),
  },
  { ...processRuntime(), cwd: dir },
);
const c = new Client(svc.url);
const [, first] = await c.chat();
if (first !== (open ? 503 : 200)) throw new Error(`first answer ${first}, expected ${open ? 503 : 200}`);
const n = Number(process.argv[3] ?? 3000);
const t: number[] = [];
for (let i = 0; i < n; i++) t.push((await c.chat())[0]);
t.sort((a, b) => a - b);
console.log(
  `${open ? "open" : "full"} p50 ${percentile(t, 50).toFixed(0)} µs p90 ${percentile(t, 90).toFixed(0)}`,
);
await c.close();
await svc.forceClose();
await rm(dir, { recursive: true, force: true });
