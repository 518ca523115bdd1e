import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processRuntime } from "../../../common/runtime.js";
import { mergeDeep } from "../../../reference-service/config.js";
import { serveReference, type RunningService } from "../../../reference-service/serve.js";
import { ScriptedBackend } from "./scripted-backend.js";

export interface TestService {
  readonly svc: RunningService;
  readonly backend: ScriptedBackend;
  readonly url: string;
  stop(): Promise<void>;
}

/** The API process in-process, with a scripted primary backend (no worker is spawned). */
export async function startWithScriptedBackend(config: unknown = {}): Promise<TestService> {
  const dir = await mkdtemp(join(tmpdir(), "fl-api-"));
  const backend = new ScriptedBackend();
  const base = { port: 0, stateDir: join(dir, "state"), retry: { initialDelayMs: 1, maxDelayMs: 2 } };
  const svc = await serveReference(
    { config: mergeDeep(base, config), backend },
    { ...processRuntime(), cwd: dir },
  );
  return {
    svc,
    backend,
    url: svc.url,
    async stop() {
      await svc.forceClose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const chatBody = (content = "hi", extra: Record<string, unknown> = {}) => ({
  model: "sim-utility",
  messages: [{ role: "user", content }],
  ...extra,
});

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
}
