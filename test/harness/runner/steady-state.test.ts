import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../common/clock.js";
import { readMetricSeries, runChecks, type CheckContext } from "../../../harness/runner/steady-state.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import type { SteadyStateCheck } from "../../../harness/scenario/schema.js";

/** Metric checks against a real loopback server whose exposition the test sets. */
let server: Server;
let rss = 1000;
let url = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    res
      .writeHead(200, { "content-type": "text/plain; version=0.0.4" })
      .end(`# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ${rss}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const ctx = (baseline: Record<string, number> | null): CheckContext => ({
  baseUrl: url,
  targetUrl: url,
  clock: systemClock,
  seed: 1,
  template: { kind: "chat", weight: 1, stream: false, prompt: "x", maxTokens: 1 },
  deadlineMs: 1000,
  baseline,
});

const growth = (value: number): SteadyStateCheck => ({
  kind: "metric",
  name: "rss-growth",
  series: "process_resident_memory_bytes",
  op: "<",
  value,
  change: true,
});

describe("metric checks on a change over the run", () => {
  it("judge the value now minus the value read before the load", async () => {
    rss = 1000;
    const baseline = await readMetricSeries(url);
    expect(baseline).toEqual({ process_resident_memory_bytes: 1000 });
    rss = 1600;
    expect(await runChecks([growth(700), growth(600)], ctx(baseline))).toEqual([
      {
        name: "rss-growth",
        passed: true,
        detail: "process_resident_memory_bytes changed by 600 (1000 before the load, 1600 now)",
      },
      {
        name: "rss-growth",
        passed: false,
        detail: "process_resident_memory_bytes changed by 600 (1000 before the load, 1600 now)",
      },
    ]);
  });

  it("fail, saying why, when nothing was read before the load", async () => {
    expect(await runChecks([growth(700)], ctx(null))).toEqual([
      {
        name: "rss-growth",
        passed: false,
        detail: "series process_resident_memory_bytes was not read before the load started",
      },
    ]);
  });

  it("without change, the value itself is judged (the check's name says which)", async () => {
    rss = 1600;
    const { name: _n, ...unnamed } = growth(2000) as Extract<SteadyStateCheck, { kind: "metric" }>;
    expect(await runChecks([{ ...unnamed, change: false }], ctx(null))).toEqual([
      {
        name: "process_resident_memory_bytes < 2000",
        passed: true,
        detail: "process_resident_memory_bytes = 1600",
      },
    ]);
    expect((await runChecks([unnamed], ctx({ process_resident_memory_bytes: 0 })))[0]?.name).toBe(
      "process_resident_memory_bytes change < 2000",
    );
  });

  it("are refused before the load, naming the field and the fix", () => {
    const r = parseScenario(
      `name: t
target: { kind: reference }
load: { rate: 5, duration: 2s }
steadyState:
  before: [{ kind: metric, series: process_resident_memory_bytes, op: "<", value: 1, change: true }]
slos: [{ kind: availability, min: 0.9 }]
`,
      "s.yaml",
      FAULT_KINDS,
    );
    expect(r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "steadyState.before[0].change: a change over the run can only be checked after the load (remove change, or move the check to steadyState.after)",
    ]);
  });
});
