/**
 * Write-up 002's "Consistent Interface: Maintains same API interface": an answer at any service
 * level (full, degraded from the cache or the CPU model, minimal from the static answer) is
 * one the official openai client reads, with the same fields and types as a full answer. The
 * fallback adds one field, `faultline` (its level), which OpenAI clients ignore.
 */
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { chatCompletionProblem } from "../../../harness/runner/openai-shape.js";
import { startWithScriptedBackend, type TestService } from "./harness.js";

let t: TestService | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const down = () => new WorkerUnavailableError("worker gone");

/** The answer's structure: each field's type, recursively; arrays by their first element. */
function shapeOf(v: unknown): unknown {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? [] : [shapeOf(v[0])];
  if (typeof v === "object")
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== "faultline")
        .map(([k, x]) => [k, shapeOf(x)]),
    );
  return typeof v;
}

interface Level {
  readonly name: string;
  readonly config: unknown;
  readonly expected: { service_level: string; fallback: string } | undefined;
}

const LEVELS: readonly Level[] = [
  { name: "full", config: {}, expected: undefined },
  {
    name: "degraded (cache)",
    config: { fallback: { cpuModel: false } },
    expected: { service_level: "degraded", fallback: "cache" },
  },
  {
    name: "degraded (CPU model)",
    config: { fallback: { cache: false } },
    expected: { service_level: "degraded", fallback: "cpu-model" },
  },
  {
    name: "minimal (static answer)",
    config: { fallback: { cache: false, cpuModel: false } },
    expected: { service_level: "minimal", fallback: "static" },
  },
];

/**
 * The service configured for `level`, after one full answer to the same prompt (the cache
 * fallback replays it; its shape is the reference), with the primary failing from then on
 * unless the level is full.
 */
async function serviceAt(level: Level): Promise<{ client: OpenAI; fullShape: unknown }> {
  t = await startWithScriptedBackend({ retry: { maxRetries: 0 }, ...(level.config as object) });
  const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const full = await ask(client);
  expect((full as unknown as Record<string, unknown>).faultline).toBe(undefined);
  if (level.expected) t.backend.fallbackStep = { kind: "fail", error: down };
  return { client, fullShape: shapeOf(full) };
}

const ask = (client: OpenAI) =>
  client.chat.completions.create({
    model: "sim-utility",
    messages: [{ role: "user", content: "the same question" }],
    max_tokens: 4,
  });

describe("every service level answers with the OpenAI chat completion shape (write-up 002)", () => {
  it.each(LEVELS)(
    "$name: the openai client reads it; same fields and types as a full answer",
    async (level) => {
      const { client, fullShape } = await serviceAt(level);
      const r = await ask(client);
      const raw = r as unknown as Record<string, unknown>;
      expect(raw.faultline).toEqual(level.expected);
      expect(chatCompletionProblem(r)).toBe(null);
      expect(r.object).toBe("chat.completion");
      expect(r.choices[0]?.message.role).toBe("assistant");
      expect(typeof r.choices[0]?.message.content).toBe("string");
      expect(shapeOf(r)).toEqual(fullShape);
    },
  );

  it.each(LEVELS)(
    "$name, streamed: every chunk is a chat.completion.chunk, ending in a finish reason",
    async (level) => {
      const { client } = await serviceAt(level);
      const stream = await client.chat.completions.create({
        model: "sim-utility",
        messages: [{ role: "user", content: "the same question" }],
        max_tokens: 4,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      expect(new Set(chunks.map((c) => c.object))).toEqual(new Set(["chat.completion.chunk"]));
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
      const finishes = chunks
        .flatMap((c) => c.choices.map((ch) => ch.finish_reason))
        .filter((f) => f !== null);
      expect(finishes.length).toBe(1);
      expect(["stop", "length"]).toContain(finishes[0]);
      // A fallback stream says its level in-band, in its chunks' faultline field.
      const marked = chunks.map((c) => (c as unknown as { faultline?: unknown }).faultline).find((f) => f);
      expect(marked).toEqual(level.expected);
      const usage = chunks.at(-1)?.usage;
      expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? NaN) + (usage?.completion_tokens ?? NaN));
    },
  );
});
