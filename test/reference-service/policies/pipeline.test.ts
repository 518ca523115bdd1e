import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { GenerationEvent, GenerationRequest } from "../../../reference-service/backend.js";
import { ModelNotFoundError, WorkerUnavailableError } from "../../../reference-service/backend-errors.js";
import { BackendBreaker } from "../../../reference-service/policies/breaker.js";
import {
  ServingPipeline,
  type AnswerSink,
  type Served,
} from "../../../reference-service/policies/pipeline.js";
import { StaticAnswerBackend } from "../../../reference-service/policies/static-answer.js";
import { ScriptedBackend } from "../api/scripted-backend.js";

class CollectSink implements AnswerSink {
  readonly committed = false;
  events: string[] = [];
  resets = 0;
  reset(): void {
    this.resets++;
    this.events = [];
  }
  push(e: GenerationEvent, s: Served): void {
    this.events.push(`${s.level}/${s.backend}:${e.type === "token" ? e.text : e.type}`);
  }
}

const request: GenerationRequest = {
  id: "r1",
  kind: "chat",
  model: "m",
  prompt: "p",
  maxTokens: 2,
  stream: false,
  deadlineAtMs: 0,
};

function setup(attemptIdleTimeoutMs: number | null = null) {
  const clock = new ManualClock();
  const backend = new ScriptedBackend();
  const fallbacks: string[] = [];
  const breaker = new BackendBreaker("worker", { failureThreshold: 5, halfOpenAfterMs: 60_000 }, clock);
  const pipeline = new ServingPipeline({
    primary: backend,
    breaker,
    retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
    timeoutMs: 1000,
    attemptIdleTimeoutMs,
    fallbacks: [{ level: "minimal", backend: new StaticAnswerBackend("static answer") }],
    clock,
    observer: { fallback: (f, t, r) => fallbacks.push(`${f}->${t} ${r}`), retry: () => undefined },
  });
  return { clock, backend, breaker, fallbacks, pipeline };
}

describe("ServingPipeline", () => {
  it("gives the primary exactly timeoutMs on the injected clock, then answers from the fallback", async () => {
    const { clock, backend, fallbacks, pipeline } = setup();
    backend.fallbackStep = { kind: "hang" };
    const sink = new CollectSink();
    let served: Served | undefined;
    const p = pipeline.serve(request, sink, new AbortController().signal).then((s) => (served = s));
    await clock.advanceAsync(999);
    expect(served).toEqual(undefined);
    expect(pipeline.progress.inFlight).toEqual(1);
    expect(pipeline.progress.stalledForMs()).toEqual(999);
    await clock.advanceAsync(1);
    await p;
    expect(served).toEqual({ level: "minimal", backend: "static" });
    expect(sink.events).toEqual(["minimal/static:static ", "minimal/static:answer", "minimal/static:done"]);
    expect(fallbacks).toEqual(["worker->static backend_timeout"]);
    expect(backend.aborted).toEqual(1);
    expect(pipeline.progress.inFlight).toEqual(0);
  });

  it("an attempt that goes quiet fails after attemptIdleTimeoutMs, well before the deadline, counted by the breaker", async () => {
    const { clock, backend, breaker, fallbacks, pipeline } = setup(300);
    backend.fallbackStep = { kind: "hang", afterTokens: 1 }; // one token, then silence (a black hole)
    let served: Served | undefined;
    const p = pipeline
      .serve(request, new CollectSink(), new AbortController().signal)
      .then((s) => (served = s));
    await clock.advanceAsync(299);
    expect(served).toEqual(undefined);
    await clock.advanceAsync(1);
    await p;
    expect(served).toEqual({ level: "minimal", backend: "static" });
    expect(fallbacks).toEqual(["worker->static backend_timeout"]);
    expect([backend.aborted, pipeline.progress.inFlight]).toEqual([1, 0]);
    for (let i = 0; i < 4; i++) {
      const q = pipeline.serve(request, new CollectSink(), new AbortController().signal);
      await clock.advanceAsync(300);
      await q;
    }
    expect(breaker.state).toEqual("open");
  });

  it("answers an unknown model as it is, without fallback", async () => {
    const { backend, fallbacks, pipeline } = setup();
    backend.script = [{ kind: "fail", error: () => new ModelNotFoundError("no such model") }];
    await expect(pipeline.serve(request, new CollectSink(), new AbortController().signal)).rejects.toThrow(
      "no such model",
    );
    expect(fallbacks).toEqual([]);
  });

  it("a client abort is not answered by a fallback", async () => {
    const { clock, backend, fallbacks, pipeline } = setup();
    backend.fallbackStep = { kind: "hang" };
    const ctrl = new AbortController();
    const p = pipeline.serve(request, new CollectSink(), ctrl.signal);
    await clock.advanceAsync(10);
    ctrl.abort(new Error("client left"));
    await expect(p).rejects.toThrow("client left");
    expect(fallbacks).toEqual([]);
  });

  it("an open breaker's refusal goes to the fallback without a call to the primary; a gone client gets none", async () => {
    const { backend, breaker, fallbacks, pipeline } = setup();
    backend.fallbackStep = { kind: "fail", error: () => new WorkerUnavailableError("down") };
    for (let i = 0; i < 5; i++)
      await pipeline.serve(request, new CollectSink(), new AbortController().signal);
    expect([breaker.state, backend.calls]).toEqual(["open", 5]);
    const sink = new CollectSink();
    expect(await pipeline.serve(request, sink, new AbortController().signal)).toEqual({
      level: "minimal",
      backend: "static",
    });
    expect(sink.events).toEqual(["minimal/static:static ", "minimal/static:answer", "minimal/static:done"]);
    expect(backend.calls).toEqual(5);
    expect(fallbacks.slice(-1)).toEqual(["worker->static circuit_open"]);
    const gone = new AbortController();
    gone.abort(new Error("client left"));
    await expect(pipeline.serve(request, new CollectSink(), gone.signal)).rejects.toThrow("client left");
    expect(fallbacks.length).toEqual(6);
  });
});
