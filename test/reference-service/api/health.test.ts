import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import {
  HealthHistory,
  currentServiceLevel,
  evaluateReadiness,
  type ReadinessInputs,
} from "../../../reference-service/api/health.js";
import type { SupervisorStatus } from "../../../reference-service/supervisor/supervisor.js";
import { heartbeat } from "../supervisor/fake-worker.js";

const worker = (over: Partial<SupervisorStatus> = {}): SupervisorStatus => ({
  state: "running",
  pid: 7,
  restarts: 0,
  restartsInWindow: 0,
  lastRestartCause: null,
  lastHeartbeatMs: 50,
  heartbeat: heartbeat(7, 0),
  reason: "worker 7 running",
  ...over,
});

const base: ReadinessInputs = {
  draining: false,
  worker: worker(),
  heartbeatStaleMs: 1000,
  inFlight: 0,
  stalledForMs: 0,
  progressStallMs: 5000,
  breaker: "closed",
  hasFallback: true,
};

const model = (name: string, state: "ready" | "failed", reason?: string) => ({
  name,
  device: "gpu" as const,
  state,
  sizeBytes: 1,
  refCount: 0,
  ...(reason ? { reason } : {}),
});

describe("evaluateReadiness", () => {
  const cases: [string, Partial<ReadinessInputs>, { ready: boolean; status: string; reason: string }][] = [
    [
      "all good",
      {},
      { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" },
    ],
    [
      "draining wins over everything",
      { draining: true, breaker: "open" },
      { ready: false, status: "draining", reason: "draining: shutting down" },
    ],
    [
      "restart budget spent",
      { worker: worker({ state: "given-up", reason: "budget spent" }) },
      { ready: false, status: "dead", reason: "budget spent" },
    ],
    [
      "no heartbeat yet",
      {
        worker: worker({
          state: "starting",
          heartbeat: null,
          lastHeartbeatMs: null,
          reason: "worker 7 starting",
        }),
      },
      { ready: false, status: "loading", reason: "no worker heartbeat yet: worker 7 starting" },
    ],
    [
      "stale heartbeat",
      { worker: worker({ lastHeartbeatMs: 1001 }) },
      { ready: false, status: "stalled", reason: "worker heartbeat is 1001 ms old (limit 1000)" },
    ],
    [
      "heartbeat exactly at the limit is fresh",
      { worker: worker({ lastHeartbeatMs: 1000 }) },
      { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" },
    ],
    [
      "worker still loading its model",
      { worker: worker({ heartbeat: { ...heartbeat(7, 0), phase: "starting" } }) },
      { ready: false, status: "loading", reason: "worker 7 is starting" },
    ],
    [
      "every GPU model failed",
      {
        worker: worker({
          heartbeat: {
            ...heartbeat(7, 0),
            models: [model("a", "failed", "corrupt weights"), model("b", "failed")],
          },
        }),
      },
      {
        ready: false,
        status: "dead",
        reason: "no model is loadable: a failed (corrupt weights); b failed (no reason)",
      },
    ],
    [
      "one GPU model still loadable",
      {
        worker: worker({
          heartbeat: { ...heartbeat(7, 0), models: [model("a", "failed"), model("b", "ready")] },
        }),
      },
      { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" },
    ],
    [
      "requests running, no token for longer than T",
      { inFlight: 3, stalledForMs: 5001 },
      { ready: false, status: "stalled", reason: "3 requests running and no token for 5001 ms (limit 5000)" },
    ],
    [
      "idle is never stalled",
      { inFlight: 0, stalledForMs: 99_999 },
      { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" },
    ],
    [
      "breaker open, no fallback",
      { breaker: "open", hasFallback: false },
      { ready: false, status: "dead", reason: "circuit breaker open and no fallback configured" },
    ],
    [
      "breaker open with fallbacks",
      { breaker: "open" },
      { ready: true, status: "degraded", reason: "circuit breaker open; fallbacks answer" },
    ],
    [
      "upstream mode (no worker)",
      { worker: null },
      { ready: true, status: "ready", reason: "worker heartbeat fresh, model ready, making progress" },
    ],
  ];
  it.each(cases)("%s", (_name, over, expected) => {
    expect(evaluateReadiness({ ...base, ...over })).toEqual(expected);
  });

  it("maps readiness to the service level a request would get", () => {
    expect(
      currentServiceLevel({ ready: true, status: "ready", reason: "" }, ["degraded", "minimal"]),
    ).toEqual("full");
    expect(
      currentServiceLevel({ ready: false, status: "stalled", reason: "" }, ["degraded", "minimal"]),
    ).toEqual("degraded");
    expect(currentServiceLevel({ ready: false, status: "stalled", reason: "" }, [])).toEqual("unavailable");
    expect(currentServiceLevel({ ready: false, status: "draining", reason: "" }, ["minimal"])).toEqual(
      "unavailable",
    );
  });
});

describe("HealthHistory", () => {
  it("keeps status changes only, bounded, with the time the current status began", () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const h = new HealthHistory(clock, 2);
    h.observe({ ready: true, status: "ready", reason: "ok" });
    clock.advance(1000);
    h.observe({ ready: true, status: "ready", reason: "ok" });
    clock.advance(1000);
    h.observe({ ready: false, status: "stalled", reason: "old heartbeat" });
    clock.advance(1000);
    h.observe({ ready: false, status: "stalled", reason: "older heartbeat" });
    expect(h.list()).toEqual([
      { at: "2026-01-01T00:00:02.000Z", status: "stalled", reason: "old heartbeat" },
      { at: "2026-01-01T00:00:03.000Z", status: "stalled", reason: "older heartbeat" },
    ]);
    expect(h.since).toEqual("2026-01-01T00:00:02.000Z");
  });
});
