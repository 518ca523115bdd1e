import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { UpstreamBackend } from "../../../reference-service/supervisor/upstream-backend.js";

/** A real upstream that answers /v1/models, then cuts chat streams after their first chunk. */
function cuttingUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/v1/models") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model" }] }));
      return;
    }
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = {
      id: "x",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content: "Hel" } }],
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`, () => setTimeout(() => req.socket.destroy(), 20));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
});

describe("UpstreamBackend when the upstream connection is cut mid-stream", () => {
  it("yields the tokens that arrived, then fails with the retryable WorkerUnavailableError", async () => {
    server = await cuttingUpstream();
    const { port } = server.address() as AddressInfo;
    const backend = await UpstreamBackend.connect(`http://127.0.0.1:${port}`);
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const ev of backend.generate(
        {
          id: "r1",
          kind: "chat",
          model: "m",
          prompt: "hi",
          maxTokens: 8,
          stream: true,
          deadlineAtMs: Date.now() + 5000,
        },
        new AbortController().signal,
      )) {
        if (ev.type === "token") seen.push(ev.text);
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(["Hel"]);
    expect(error).toBeInstanceOf(WorkerUnavailableError);
    expect((error as WorkerUnavailableError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/^upstream connection lost: /);
  });
});
