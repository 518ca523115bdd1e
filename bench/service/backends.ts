import { createServer, type Server } from "node:http";
import type { GenerationEvent, GenerationRequest, ModelBackend } from "../../reference-service/backend.js";
import { WorkerUnavailableError } from "../../reference-service/backend-errors.js";

/** A model that answers at once: one token, then done. What is left is the service's own cost. */
export class ZeroLatencyBackend implements ModelBackend {
  readonly name = "worker";
  // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the interface's shape
  async *generate(req: GenerationRequest): AsyncIterable<GenerationEvent> {
    yield { type: "token", index: 0, text: "ok" };
    yield {
      type: "done",
      finishReason: "length",
      usage: { promptTokens: req.prompt.length, completionTokens: 1 },
    };
  }
}

/** A model that always fails in a way the breaker counts, to open it and keep it open. */
export class FailingBackend implements ModelBackend {
  readonly name = "worker";
  // eslint-disable-next-line @typescript-eslint/require-await, require-yield -- fails before its first event
  async *generate(): AsyncIterable<GenerationEvent> {
    throw new WorkerUnavailableError("benchmark: worker down");
  }
}

/**
 * The bare handler: HTTP, body read and parsed, a chat completion of the same shape written
 * back; no admission, policies, metrics or fallbacks. The baseline of the policy overhead.
 */
export function bareChatServer(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model: string };
      const answer = {
        id: "chatcmpl-bare",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "length" }],
        usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
}
