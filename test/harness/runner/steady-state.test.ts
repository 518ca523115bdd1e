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

/** What POST /v1/chat/completions answers: a status, headers and a body the test sets. */
let answer: { status: number; headers: Record<string, string>; body: string } = {
  status: 200,
  headers: {},
  body: "{}",
};

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/admin" && req.method === "POST")
      return void res
        .writeHead(
          req.headers.authorization === "Bearer t0ken" && req.headers["content-type"] === "application/json"
            ? 200
            : 401,
        )
        .end();
    if (req.url === "/v1/chat/completions" && req.method === "POST")
      return void res.writeHead(answer.status, answer.headers).end(answer.body);
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

const COMPLETION = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

const shapeCheck = (levels?: string[]): SteadyStateCheck => ({
  kind: "http",
  name: "same-interface",
  url: "/v1/chat/completions",
  method: "POST",
  body: '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
  status: 200,
  timeout: 1000,
  within: 0,
  shape: "openai-chat-completion",
  ...(levels ? { levels } : {}),
});

describe("http checks of an answer's shape and service level", () => {
  it("pass an OpenAI chat completion, naming the level it was marked with (unmarked = full)", async () => {
    answer = { status: 200, headers: {}, body: JSON.stringify(COMPLETION) };
    expect(await runChecks([shapeCheck()], ctx(null))).toEqual([
      { name: "same-interface", passed: true, detail: "HTTP 200, level full, openai-chat-completion shape" },
    ]);
    answer = {
      status: 200,
      headers: { "x-faultline-service-level": "minimal" },
      body: JSON.stringify({ ...COMPLETION, faultline: { service_level: "minimal" } }),
    };
    expect(await runChecks([shapeCheck(["degraded", "minimal"])], ctx(null))).toEqual([
      {
        name: "same-interface",
        passed: true,
        detail: "HTTP 200, level minimal, openai-chat-completion shape",
      },
    ]);
  });

  it("fail an answer of another shape, naming the first field that differs", async () => {
    const { choices: _c, ...noChoices } = COMPLETION;
    answer = { status: 200, headers: {}, body: JSON.stringify({ ...noChoices, object: "text_completion" }) };
    const [r] = await runChecks([shapeCheck()], ctx(null));
    expect(r?.passed).toBe(false);
    expect(r?.detail).toMatch(/^HTTP 200, level full, not openai-chat-completion: object: /);
    answer = { status: 200, headers: {}, body: "temporarily unavailable" };
    expect((await runChecks([shapeCheck()], ctx(null)))[0]?.detail).toBe(
      "HTTP 200, level full, not openai-chat-completion: the body is not JSON",
    );
  });

  it("fail a full answer where a fallback was expected, and a wrong status as before", async () => {
    answer = { status: 200, headers: {}, body: JSON.stringify(COMPLETION) };
    expect((await runChecks([shapeCheck(["degraded", "minimal"])], ctx(null)))[0]).toEqual({
      name: "same-interface",
      passed: false,
      detail: "HTTP 200, level full (expected degraded or minimal), openai-chat-completion shape",
    });
    answer = { status: 503, headers: {}, body: "{}" };
    expect((await runChecks([shapeCheck()], ctx(null)))[0]?.detail).toMatch(
      /^expected HTTP 200, got HTTP 503/,
    );
  });

  it("send the check's headers beside the JSON content type", async () => {
    const admin = (headers?: Record<string, string>): SteadyStateCheck => ({
      kind: "http",
      name: "admin",
      url: "/admin",
      method: "POST",
      body: "{}",
      status: 200,
      timeout: 1000,
      within: 0,
      ...(headers ? { headers } : {}),
    });
    expect(await runChecks([admin({ authorization: "Bearer t0ken" })], ctx(null))).toEqual([
      { name: "admin", passed: true, detail: "HTTP 200" },
    ]);
    expect((await runChecks([admin()], ctx(null)))[0]?.detail).toMatch(/^expected HTTP 200, got HTTP 401/);
  });

  it("refuse a body without POST, naming the field and the fix", () => {
    const r = parseScenario(
      `name: t
target: { kind: reference }
load: { rate: 5, duration: 2s }
steadyState:
  after: [{ kind: http, url: /v1/chat/completions, body: "{}" }]
slos: [{ kind: availability, min: 0.9 }]
`,
      "s.yaml",
      FAULT_KINDS,
    );
    expect(r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "steadyState.after[0].body: a body is sent with POST only: add method: POST, or remove body",
    ]);
  });
});
