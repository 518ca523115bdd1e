import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { defaultBaseUrl, exportK6Script, k6Options, k6Templates } from "../../../harness/k6/export.js";
import { k6Duration, k6ScenarioFor, timeUnitFor } from "../../../harness/k6/executor.js";
import { loadSchema, targetSchema } from "../../../harness/scenario/schema.js";
import { EXAMPLES, ROOT, exportExample, loadScenarioFile } from "./examples.js";

const TREND_STATS = ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"];

describe("exportK6Script", () => {
  it("baseline: constant arrival rate, the mix, thresholds from its SLOs", async () => {
    const s = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    expect(k6Options(s)).toEqual({
      scenarios: {
        load: {
          executor: "constant-arrival-rate",
          rate: 20,
          timeUnit: "1s",
          duration: "12s",
          preAllocatedVUs: 20,
          maxVUs: 512,
          gracefulStop: "5s",
        },
      },
      thresholds: { faultline_full: ["rate>=0.999"], http_req_duration: ["p(99)<=1000"] },
      summaryTrendStats: TREND_STATS,
    });
    const body = (stream: boolean): string =>
      JSON.stringify({
        model: "sim-utility",
        messages: [{ role: "user", content: "Say hello." }],
        max_tokens: 8,
        stream,
      });
    expect(k6Templates(s)).toEqual([
      {
        name: "chat",
        weight: 3,
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: body(false),
        stream: false,
        expect: null,
      },
      {
        name: "chat-stream",
        weight: 1,
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: body(true),
        stream: true,
        expect: null,
      },
    ]);
    const script = exportK6Script(s);
    expect(script).toContain('const DEADLINE = "5000ms";');
    expect(script).toContain('const BASE_URL = __ENV.FAULTLINE_BASE_URL ?? "http://127.0.0.1:8080";');
    expect(script).toContain("const SEED = 1;");
    expect(script).toContain("export function handleSummary(");
  });

  it("stages with a fractional rate: ramping arrival rate per 10 s, steps as 0 s stages, held to duration", async () => {
    const s = await loadScenarioFile("test/harness/k6/fixtures/mixed-ramp.yaml");
    expect(k6Options(s).scenarios).toEqual({
      load: {
        executor: "ramping-arrival-rate",
        startRate: 25,
        timeUnit: "10s",
        // 2.5 -> 10 req/s ramp, hold, the x2 burst at 20-25 s, back to 10, step to 4 held to 50 s.
        stages: [
          { duration: "10s", target: 100 },
          { duration: "10s", target: 100 },
          { duration: "0s", target: 200 },
          { duration: "5s", target: 200 },
          { duration: "0s", target: 100 },
          { duration: "5s", target: 100 },
          { duration: "0s", target: 40 },
          { duration: "20s", target: 40 },
        ],
        // One second of the burst's 20 req/s peak.
        preAllocatedVUs: 20,
        maxVUs: 64,
        gracefulStop: "2s",
      },
    });
    expect(k6Options(s).thresholds).toEqual({
      // The availability SLO states no level, so it judges full service (the default since
      // #15): the share of primary-model answers, not http_req_failed.
      faultline_full: ["rate>=0.995"],
      http_req_failed: ["rate<=0.002"],
      http_req_duration: ["p(95)<=1500", "p(99)<=2000"],
    });
    expect(k6Templates(s).map((t) => [t.name, t.weight, t.method, t.path, t.stream, t.expect])).toEqual([
      ["chat", 4, "POST", "/v1/chat/completions", false, null],
      ["chat-stream", 2, "POST", "/v1/chat/completions", true, null],
      ["completion", 1, "POST", "/v1/completions", false, null],
      ["embedding", 1, "POST", "/v1/embeddings", false, null],
      ["models", 0.5, "GET", "/v1/models", false, [200, 304]],
    ]);
    const script = exportK6Script(s);
    expect(script).toContain('const BASE_URL = __ENV.FAULTLINE_BASE_URL ?? "http://127.0.0.1:9000";');
    expect(script).toContain(" * - uptime: uptime skipped (needs fault windows; faultline evaluates it)\n");
  });

  it("a load-burst fault on a constant load becomes ramping stages with the burst in them", async () => {
    const s = await loadScenarioFile("test/harness/k6/fixtures/load-burst.yaml");
    expect(k6Options(s).scenarios).toEqual({
      load: {
        executor: "ramping-arrival-rate",
        startRate: 20,
        timeUnit: "1s",
        stages: [
          { duration: "4s", target: 20 },
          { duration: "0s", target: 80 },
          { duration: "3s", target: 80 },
          { duration: "0s", target: 20 },
          { duration: "8s", target: 20 },
        ],
        preAllocatedVUs: 80,
        maxVUs: 512,
        gracefulStop: "5s",
      },
    });
  });

  it("says that retries at Retry-After and their SLO are not kept", async () => {
    const s = await loadScenarioFile("scenarios/ci/11-load-burst.yaml");
    const script = exportK6Script(s);
    expect(script).toContain(
      " * - `load.honourRetryAfter` is not kept: a shed answer is final (it is not retried).\n",
    );
    expect(script).toContain(
      " * - retry-after: retry-after skipped (the exported script does not retry shed answers)\n",
    );
    expect(script).toContain(
      " * - availability: counts every attempt in k6, not each request by its final attempt\n",
    );
    const without = await loadScenarioFile("test/harness/k6/fixtures/load-burst.yaml");
    expect(exportK6Script(without)).not.toContain("honourRetryAfter");
  });

  it("a duration shorter than the stages cuts the last ramp at its rate there", () => {
    const load = loadSchema.parse({
      rate: 10,
      duration: "15s",
      stages: [{ duration: "20s", rate: 30, ramp: true }],
    });
    expect(k6ScenarioFor(load, 1)).toEqual({
      executor: "ramping-arrival-rate",
      startRate: 10,
      timeUnit: "1s",
      stages: [{ duration: "15s", target: 25 }],
      // The cut plan peaks at 25 req/s, so one second of peak is 25 VUs.
      preAllocatedVUs: 25,
      maxVUs: 512,
      gracefulStop: "10s",
    });
  });

  it("a step to a new rate after a hold, and a ramp down to zero", () => {
    const load = loadSchema.parse({
      rate: 5,
      stages: [
        { duration: "5s", rate: 5 },
        { duration: "5s", rate: 20 },
        { duration: "10s", rate: 0, ramp: true },
      ],
    });
    expect(k6ScenarioFor(load, 1)).toMatchObject({
      executor: "ramping-arrival-rate",
      startRate: 5,
      stages: [
        { duration: "5s", target: 5 },
        { duration: "0s", target: 20 },
        { duration: "5s", target: 20 },
        { duration: "10s", target: 0 },
      ],
    });
  });

  it("chooses the smallest time unit that makes every rate whole", () => {
    expect(timeUnitFor([20, 40])).toBe(1);
    expect(timeUnitFor([2.5, 10])).toBe(10);
    expect(timeUnitFor([0.25])).toBe(100);
    expect(timeUnitFor([0.125])).toBe(1000);
    expect(timeUnitFor([1 / 3])).toBe(1000);
    expect([k6Duration(12_000), k6Duration(250), k6Duration(1500)]).toEqual(["12s", "250ms", "1500ms"]);
  });

  it("base URL from the target", () => {
    expect(defaultBaseUrl({ kind: "url", baseUrl: "http://10.0.0.1:80/" })).toBe("http://10.0.0.1:80/");
    expect(
      defaultBaseUrl({
        kind: "command",
        cmd: "x",
        args: [],
        readyUrl: "http://127.0.0.1:7000/ready",
        env: {},
        startTimeout: 1000,
      }),
    ).toBe("http://127.0.0.1:7000");
    expect(defaultBaseUrl(targetSchema.parse({ kind: "reference" }))).toBe("http://127.0.0.1:8080");
  });

  for (const e of EXAMPLES) {
    it(`shipped example ${e.script} is the current export of ${e.source}`, async () => {
      const committed = await readFile(`${ROOT}${e.script}`, "utf8");
      const fresh = await exportExample(e.source, e.script);
      // Stale after a change to the source or the exporter: node --import tsx test/harness/k6/regenerate-examples.ts
      expect(
        committed === fresh,
        `${e.script} is stale: run node --import tsx test/harness/k6/regenerate-examples.ts`,
      ).toBe(true);
      expect(committed).toBe(fresh);
    });
  }
});
