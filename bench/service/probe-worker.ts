// Ad-hoc probe (not part of npm run bench): sequential chats through the real worker.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processRuntime } from "../../common/runtime.js";
import { serveReference } from "../../reference-service/serve.js";
import { Client, percentile } from "./measure.js";

const dir = await mkdtemp(join(tmpdir(), "probe-"));
const svc = await serveReference(
  {
    config: {
      port: 0,
      stateDir: join(dir, "w"),
      fallback: { cache: false },
      worker: {
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
      },
    },
    workerStderr: "inherit",
  },
  { ...processRuntime(), cwd: dir },
);
const c = new Client(svc.url);
while ((await c.get("/health/ready")) !== 200) await sleep(5);
const n = Number(process.argv[2] ?? 500);
const t: number[] = [];
for (let i = 0; i < n; i++) t.push((await c.chat())[0]);
t.sort((a, b) => a - b);
console.log(
  `worker p50 ${percentile(t, 50).toFixed(0)} µs p90 ${percentile(t, 90).toFixed(0)} p99 ${percentile(t, 99).toFixed(0)}`,
);
await c.close();
await svc.forceClose();
await rm(dir, { recursive: true, force: true });
