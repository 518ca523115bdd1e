import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatBody, post, startWithScriptedBackend, type TestService } from "./harness.js";

let t: TestService;
beforeAll(async () => {
  t = await startWithScriptedBackend({ bodyLimitBytes: 2048 });
});
afterAll(async () => t.stop());

async function answer(res: Response) {
  return {
    status: res.status,
    body: await res.json(),
    retry: res.headers.get("x-should-retry"),
  };
}

describe("client mistakes are 4xx in OpenAI's error envelope, never 500", () => {
  it("malformed JSON is 400", async () => {
    const r = await answer(await post(`${t.url}/v1/chat/completions`, "{not json"));
    expect(r.status).toEqual(400);
    expect(r.body).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_request", param: null },
    });
    expect((r.body as { error: { message: string } }).error.message).toMatch(
      /^the request body is not valid JSON: /,
    );
  });

  it("a missing field is 400 naming the field", async () => {
    const r = await answer(await post(`${t.url}/v1/chat/completions`, { model: "sim-utility" }));
    expect(r).toEqual({
      status: 400,
      retry: "false",
      body: {
        error: {
          message: "messages: required field is missing",
          type: "invalid_request_error",
          param: "messages",
          code: "invalid_request",
        },
      },
    });
  });

  it("a wrong type deep in the body is 400 naming its path", async () => {
    const r = await answer(await post(`${t.url}/v1/chat/completions`, chatBody("hi", { max_tokens: -1 })));
    expect(r.status).toEqual(400);
    expect((r.body as { error: { param: string } }).error.param).toEqual("max_tokens");
    const r2 = await answer(
      await post(`${t.url}/v1/chat/completions`, {
        model: "sim-utility",
        messages: [{ role: "robot", content: "x" }],
      }),
    );
    expect((r2.body as { error: { param: string } }).error.param).toEqual("messages.0.role");
  });

  it("a body that is not an object is 400", async () => {
    const r = await answer(await post(`${t.url}/v1/completions`, "[1,2]"));
    expect(r.status).toEqual(400);
    expect((r.body as { error: { message: string } }).error.message).toEqual(
      "the request body must be a JSON object",
    );
  });

  it("an oversized body is 413", async () => {
    const r = await answer(await post(`${t.url}/v1/chat/completions`, chatBody("x".repeat(4096))));
    expect(r).toEqual({
      status: 413,
      retry: "false",
      body: {
        error: {
          message: "request body exceeds 2048 bytes",
          type: "invalid_request_error",
          param: null,
          code: "payload_too_large",
        },
      },
    });
  });

  it("an unknown model is 404 with param model; a chat model cannot embed", async () => {
    const r = await answer(await post(`${t.url}/v1/chat/completions`, { ...chatBody(), model: "gpt-9" }));
    expect(r).toEqual({
      status: 404,
      retry: "false",
      body: {
        error: {
          message: "The model 'gpt-9' does not exist; available: sim-utility, sim-reasoning",
          type: "invalid_request_error",
          param: "model",
          code: "model_not_found",
        },
      },
    });
    const e = await answer(await post(`${t.url}/v1/embeddings`, { model: "sim-utility", input: "x" }));
    expect(e.status).toEqual(404);
    expect((e.body as { error: { message: string } }).error.message).toEqual(
      "The model 'sim-utility' is not an embedding model; available: sim-embed",
    );
  });

  it("unknown routes are 404 and wrong methods 405, in the same envelope", async () => {
    const r = await answer(await fetch(`${t.url}/v1/nothing`));
    expect(r.body).toEqual({
      error: {
        message: "no route GET /v1/nothing",
        type: "not_found_error",
        param: null,
        code: "route_not_found",
      },
    });
    const m = await answer(await fetch(`${t.url}/v1/chat/completions`));
    expect([m.status, (m.body as { error: { code: string } }).error.code]).toEqual([
      405,
      "method_not_allowed",
    ]);
  });

  it("none of the above reached the backend", () => {
    expect(t.backend.calls).toEqual(0);
  });
});
