import type { DashboardFrame, FaultRow } from "../../../harness/dashboard/index.js";

/** A known state: 12.3 s into a 60 s run at 100 req/s under a x2 burst, one fault active. */
export function knownFrame(over: Partial<DashboardFrame> = {}): DashboardFrame {
  const faults: FaultRow[] = [
    {
      id: "kill",
      kind: "process-kill",
      target: "worker",
      description: "kill worker (process)",
      status: "done",
      startMs: 5000,
      endMs: null,
      manual: false,
    },
    {
      id: "burst",
      kind: "load-burst",
      target: "load",
      description: "load x2",
      status: "active",
      startMs: 10_000,
      endMs: 14_500,
      manual: false,
    },
    {
      id: "lat",
      kind: "net-latency",
      target: "link:api",
      description: "+500ms latency",
      status: "planned",
      startMs: 30_000,
      endMs: 40_000,
      manual: false,
    },
  ];
  return {
    title: "burst-demo",
    elapsedMs: 12_300,
    plannedMs: 60_000,
    rate: { target: 200, achieved: 198.4, multiplier: 2, inFlight: 3 },
    perSecond: { ok: 190, degraded: 5, shed: 2, error: 1, timeout: 0, conn: 0 },
    latency: { p50: 12.4, p95: 40, p99: 1234, history: [10, 20, null, 40, 80] },
    budget: {
      requests: 4000,
      good: 3996,
      answered: 3996,
      full: 3976,
      level: "answered",
      slo: 0.999,
      budget: 4,
      bad: 4,
    },
    uptime: { answered: 1, full: 0.9, windowMs: 1000, threshold: 0.99 },
    lastFault: { id: "kill", signalMs: 1000, answeredMs: 1000, fullMs: 3000 },
    slos: [
      { id: "availability-1", state: "meeting", detail: "99.900% >= 99.900%" },
      { id: "p99", state: "breaching", detail: "p99 1.23s <= 500ms (recent)" },
      { id: "recover", state: "pending", detail: "judged at end" },
    ],
    timeline: { paused: false, nowMs: 12_300, faults },
    health: {
      ready: true,
      workerUp: true,
      breakers: [
        { name: "cpu", state: "closed" },
        { name: "worker", state: "open" },
      ],
      restarts: 1,
      vramUsedBytes: 3 * 2 ** 30,
      vramTotalBytes: 8 * 2 ** 30,
    },
    ...over,
  };
}
