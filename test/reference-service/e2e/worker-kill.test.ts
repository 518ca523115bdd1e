import { afterEach, describe, expect, it } from "vitest";
import { SERVICE_LEVEL_HEADER } from "../../../reference-service/contract.js";
import { parseExposition, sampleValue } from "../api/prom-text.js";
import { sseData } from "../api/harness.js";
import { flattenMessages } from "../../../reference-service/api/schemas.js";
import { naturalLength } from "../../../reference-service/gpu/synth.js";
import { slowWorkerConfig, startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

const body = (stream = false, max = 5) =>
  JSON.stringify({
    model: "sim-utility",
    messages: [{ role: "user", content: `q ${Math.random()}` }],
    max_tokens: max,
    stream,
  });

/** A chat prompt whose natural answer length is the simulated model's longest (8 + 31 tokens). */
const LONG_PROMPT = (() => {
  for (let i = 0; ; i++) {
    const content = `long stream ${i}`;
    if (naturalLength(flattenMessages([{ role: "user", content }])) === 39) return content;
  }
})();

/** A streaming request whose body is read as it arrives; `events()` counts the SSE events so far. */
function openStream(url: string, content: string) {
  let received = "";
  const text = (async () => {
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "sim-utility",
        messages: [{ role: "user", content }],
        max_tokens: 300,
        stream: true,
      }),
    });
    const decoder = new TextDecoder();
    for await (const chunk of r.body as AsyncIterable<Uint8Array>)
      received += decoder.decode(chunk, { stream: true });
    return received;
  })();
  return { text, events: () => received.split("\n\n").length - 1 };
}

/** One request, classified: full, degraded/minimal (marked), shed (503 + both retry headers), or bad. */
async function classify(url: string): Promise<string> {
  try {
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: body(),
      signal: AbortSignal.timeout(15_000),
    });
    await r.arrayBuffer();
    if (r.status === 200) return r.headers.get(SERVICE_LEVEL_HEADER) ?? "full";
    if (r.status === 503 && r.headers.get("retry-after") && r.headers.get("retry-after-ms")) return "shed";
    return `bad:${r.status}`;
  } catch (e) {
    return `conn:${(e as Error).message}`;
  }
}

describe("kill -9 of the worker while requests flow", () => {
  it("answers every request cleanly and is ready again with a new worker", async () => {
    // Compiled service: the 2 s bound is about our supervisor, not about tsx compiling the
    // worker's TypeScript on every boot (1.5-2.6 s on its own on a loaded 2-core machine).
    // 20 ms per token keeps the 300-token stream below in flight at the kill.
    s = await startService([], slowWorkerConfig(20), { fromDist: true });
    const svc = s;
    await waitReady(svc.url, 20_000);
    const results: string[] = [];
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 80 && !stop; i++) results.push(await classify(svc.url));
    });
    // A long stream in flight at the kill is continued in the same response, never lost.
    // Its prompt makes the simulated model answer at its longest (39 tokens, 780 ms at 20 ms per
    // token), and the kill waits for 5 of them: the stream is mid-answer at the kill.
    const live = openStream(svc.url, LONG_PROMPT);
    await new Promise((r) => setTimeout(r, 400));
    for (let i = 0; i < 250 && live.events() < 6; i++) await new Promise((r) => setTimeout(r, 10));
    const before = results.length;
    const oldPid = await svc.workerPid();
    process.kill(oldPid, "SIGKILL");
    const killedAt = performance.now();
    let readyAfterMs = -1;
    for (let i = 0; i < 500; i++) {
      const r = await fetch(`${svc.url}/health/ready`);
      const pid = await svc.workerPid().catch(() => oldPid);
      if (r.status === 200 && pid !== oldPid) {
        readyAfterMs = performance.now() - killedAt;
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    // Ready may still mean "degraded" (breaker probing the new worker): wait for full answers.
    for (let i = 0; i < 250 && results.slice(-4).join() !== "full,full,full,full"; i++)
      await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(loops);

    const bad = results.filter((r) => !["full", "degraded", "minimal", "shed"].includes(r));
    expect(bad).toEqual([]);
    expect(before).toBeGreaterThan(0);
    expect(results.slice(-4)).toEqual(["full", "full", "full", "full"]);
    // Issue 2: ready again within 2 s of the kill (measured 1.1-1.5 s from dist/ at load 15).
    expect(readyAfterMs).toBeGreaterThan(0);
    expect(readyAfterMs).toBeLessThan(2000);

    const stream = continuedStream(sseData(await live.text));
    expect(stream.last).toEqual("[DONE]");
    expect(stream.errors).toEqual(0);
    // 300 content tokens and a length finish (the simulated model never stops early), or a stop.
    expect([stream.finish, stream.finish === "stop" || stream.contentTokens === 300]).toEqual([
      stream.finish === "stop" ? "stop" : "length",
      true,
    ]);
    // Unmarked chunks up to the kill; after it either all unmarked (the worker continued) or all
    // marked with the fallback's level, which the headers could no longer say.
    expect(stream.markedAfterUnmarked).toEqual(true);
    expect(stream.unmarkedBefore).toBeGreaterThan(0);
    expect(stream.levels.every((l) => l === "degraded" || l === "minimal")).toEqual(true);

    const { samples } = parseExposition(await (await fetch(`${svc.url}/metrics`)).text());
    expect(sampleValue(samples, "faultline_worker_restarts_total", { cause: "crash" })).toEqual(1);
    expect(sampleValue(samples, "faultline_stream_resumes_total", { outcome: "completed" })).toEqual(1);
    expect(sampleValue(samples, "faultline_stream_resumes_total", { outcome: "not_attempted" })).toEqual(0);
    expect(sampleValue(samples, "faultline_worker_up")).toEqual(1);
    const health = (await (await fetch(`${svc.url}/health`)).json()) as {
      worker: { restarts: number; lastRestartCause: string };
    };
    expect(health.worker).toMatchObject({ restarts: 1, lastRestartCause: "crash" });
    console.log(`ready again ${Math.round(readyAfterMs)} ms after kill; outcomes`, countBy(results));
    console.log(
      `continued stream: ${stream.unmarkedBefore} unmarked + ${stream.levels.length} marked chunks, finish ${stream.finish}`,
    );
  }, 60_000);
});

interface StreamChunk {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  faultline?: { service_level: string };
  error?: unknown;
}

/** What a continued stream looked like: content tokens, finish, and where the markers start. */
function continuedStream(events: readonly string[]) {
  const chunks = events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e) as StreamChunk);
  const content = chunks.filter((c) => (c.choices?.[0]?.delta?.content ?? "") !== "");
  const firstMarked = content.findIndex((c) => c.faultline !== undefined);
  const marked = firstMarked === -1 ? [] : content.slice(firstMarked);
  return {
    last: events[events.length - 1],
    errors: chunks.filter((c) => c.error !== undefined).length,
    finish: chunks.map((c) => c.choices?.[0]?.finish_reason).find((f) => typeof f === "string"),
    contentTokens: content.length,
    unmarkedBefore: firstMarked === -1 ? content.length : firstMarked,
    markedAfterUnmarked: marked.every((c) => c.faultline !== undefined),
    levels: marked.map((c) => c.faultline?.service_level),
  };
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
