import { afterEach, describe, expect, it } from "vitest";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { RETRY_COUNT_HEADER } from "../../../reference-service/contract.js";
import { chatBody, post, startWithScriptedBackend, type TestService } from "./harness.js";
import { parseExposition, sampleValue } from "./prom-text.js";

let t: TestService | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const CHAT = "/v1/chat/completions";

/** An open breaker (threshold 1, open for an hour) with nothing to fall back to. */
async function openBreaker(): Promise<TestService> {
  const s = await startWithScriptedBackend({
    retry: { maxRetries: 0 },
    breaker: { failureThreshold: 1, halfOpenAfterMs: 3_600_000 },
    fallback: { cache: false, cpuModel: false, static: false },
  });
  s.backend.fallbackStep = { kind: "fail", error: () => new WorkerUnavailableError("worker gone") };
  expect((await post(`${s.url}${CHAT}`, chatBody())).status).toEqual(503); // trips it
  return s;
}

async function answer(res: Response) {
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    retryAfter: res.headers.get("retry-after"),
    body: await res.json(),
  };
}

describe("fast fail: an open breaker with no fallback answers at once, as the pipeline would", () => {
  it("503 circuit_open with Retry-After for plain, streamed and retried requests; counted as before; the backend untouched", async () => {
    t = await openBreaker();
    const refused = {
      status: 503,
      type: "application/json",
      retryAfter: "60", // an hour, clamped to the 60 s the SDKs honour
      body: {
        error: {
          message: "the model backend is failing; circuit open",
          type: "service_unavailable",
          param: null,
          code: "circuit_open",
        },
      },
    };
    expect(await answer(await post(`${t.url}${CHAT}`, chatBody()))).toEqual(refused);
    expect(await answer(await post(`${t.url}${CHAT}`, chatBody("hi", { stream: true })))).toEqual(refused);
    expect(await answer(await post(`${t.url}${CHAT}`, chatBody(), { [RETRY_COUNT_HEADER]: "1" }))).toEqual(
      refused,
    );
    expect(t.backend.calls).toEqual(1);
    const m = parseExposition(await (await fetch(`${t.url}/metrics`)).text()).samples;
    expect([
      sampleValue(m, "faultline_fallback_total", { from: "worker", to: "none", reason: "circuit_open" }),
      sampleValue(m, "faultline_requests_total", { route: CHAT, outcome: "shed", status: "503" }),
      sampleValue(m, "faultline_request_duration_seconds_count", { route: CHAT, outcome: "shed" }),
    ]).toEqual([3, 4, 4]);
  });

  it("a bad body is still 400 and an unknown model 404: the request is checked before the refusal", async () => {
    t = await openBreaker();
    expect((await post(`${t.url}${CHAT}`, { model: "sim-utility" })).status).toEqual(400);
    expect((await post(`${t.url}${CHAT}`, { ...chatBody(), model: "gpt-9" })).status).toEqual(404);
  });

  it("while draining, admission's refusal comes first, as before", async () => {
    t = await openBreaker();
    t.svc.api.beginDrain();
    const r = await answer(await post(`${t.url}${CHAT}`, chatBody()));
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([503, "draining"]);
  });
});
