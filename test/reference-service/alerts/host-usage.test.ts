import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import { DEFAULT_CONFIG, resolveConfig } from "../../../reference-service/config.js";
import {
  HostUsageReader,
  hostCritical,
  cpuTimes,
  cpuUtilization,
  memoryUsedFromMeminfo,
  type HostUsage,
} from "../../../reference-service/alerts/host-usage.js";
import {
  AlertEngine,
  type AlertNotice,
  type AlertSnapshot,
} from "../../../reference-service/alerts/rules.js";
import { InvalidInputError } from "../../../common/errors.js";

const T0 = Date.UTC(2026, 0, 1);
const base: AlertSnapshot = {
  breakers: [{ name: "worker", state: "closed" }],
  worker: { state: "running", reason: "ok", restarts: 0 },
  ready: true,
};
const at = (host: HostUsage): AlertSnapshot => ({ ...base, host });
const core = (busy: number, idle: number) => ({ times: { user: busy, nice: 0, sys: 0, idle, irq: 0 } });

describe("host usage arithmetic (fixed inputs)", () => {
  it("sums every core's times and takes the busy share of the interval", () => {
    const before = cpuTimes([core(1000, 9000), core(2000, 8000)]);
    expect(before).toEqual({ idleMs: 17_000, totalMs: 20_000 });
    // Over the interval: core 0 busy 900 of 1000 ms, core 1 busy 1000 of 1000 ms: 95% of both.
    const after = cpuTimes([core(1900, 9100), core(3000, 8000)]);
    expect(cpuUtilization(before, after)).toBeCloseTo(0.95, 12);
  });

  it("is null when no CPU time passed or the counters went backwards", () => {
    const t = cpuTimes([core(10, 10)]);
    expect(cpuUtilization(t, t)).toBeNull();
    expect(cpuUtilization(t, cpuTimes([core(30, 5)]))).toBeNull();
  });

  it("memory: 1 - MemAvailable/MemTotal, MemFree and page cache ignored", () => {
    const meminfo = [
      "MemTotal:       25165824 kB",
      "MemFree:         1048576 kB",
      "MemAvailable:    5033165 kB",
      "Cached:         12000000 kB",
    ].join("\n");
    expect(memoryUsedFromMeminfo(meminfo)).toBeCloseTo(1 - 5033165 / 25165824, 12);
    expect(memoryUsedFromMeminfo("MemTotal: 100 kB\nMemFree: 5 kB\n")).toBeNull();
  });

  it("the live reader gives no CPU figure before it has an interval, then a fraction", () => {
    const r = new HostUsageReader();
    const first = r.read();
    expect(first.cpu).toBeNull();
    expect(first.memory).toBeGreaterThan(0);
    expect(first.memory).toBeLessThan(1);
    const end = Date.now() + 50;
    while (Date.now() < end); // burn 50 ms so the counters move
    const cpu = r.read().cpu;
    expect(cpu).not.toBeNull();
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeLessThanOrEqual(1);
  });
});

describe("CPU and memory rules (002: warning 80%, critical 95%)", () => {
  const names = (ns: readonly AlertNotice[]) =>
    ns.map((n) => `${n.status}:${n.labels.alertname}/${n.labels.severity}`);

  it("CPU: warning above 80%, critical above 95%, each resolving at the first evaluation below", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(DEFAULT_CONFIG.alerts, clock);
    const cpu = (v: number | null) => at({ cpu: v, memory: 0.5 });
    expect(engine.evaluate(cpu(null))).toEqual([]); // t = 0: no interval yet
    clock.advance(1000);
    expect(engine.evaluate(cpu(0.8))).toEqual([]); // t = 1 s: at 80%, not above
    clock.advance(1000);
    const warn = engine.evaluate(cpu(0.81)); // t = 2 s
    expect(names(warn)).toEqual(["firing:CpuUsageHigh/warning"]);
    expect(warn[0]?.startsAtMs).toBe(T0 + 2000);
    expect(warn[0]?.annotations.description).toBe("host cpu usage 81% (alert above 80%)");
    clock.advance(1000);
    expect(engine.evaluate(cpu(0.95))).toEqual([]); // t = 3 s: 95% is not above 95%
    clock.advance(1000);
    expect(names(engine.evaluate(cpu(0.99)))).toEqual(["firing:CpuUsageCritical/critical"]); // t = 4 s
    expect(engine.alerts().map((a) => [a.labels.alertname, a.state, a.firedAtMs])).toEqual([
      ["CpuUsageHigh", "firing", T0 + 2000],
      ["CpuUsageCritical", "firing", T0 + 4000],
    ]);
    clock.advance(1000);
    const down = engine.evaluate(cpu(0.9)); // t = 5 s: critical resolves, warning stays
    expect(down.map((n) => [n.status, n.labels.alertname, n.startsAtMs, n.endsAtMs])).toEqual([
      ["resolved", "CpuUsageCritical", T0 + 4000, T0 + 5000],
    ]);
    clock.advance(1000);
    const off = engine.evaluate(cpu(0.1)); // t = 6 s
    expect(off.map((n) => [n.status, n.labels.alertname, n.startsAtMs, n.endsAtMs])).toEqual([
      ["resolved", "CpuUsageHigh", T0 + 2000, T0 + 6000],
    ]);
    expect(engine.alerts()).toEqual([]);
  });

  it("memory: both fire together above 95% and resolve together; an unreadable figure holds nothing", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(DEFAULT_CONFIG.alerts, clock);
    const mem = (v: number | null) => at({ cpu: 0.1, memory: v });
    clock.advance(1000);
    expect(names(engine.evaluate(mem(0.96)))).toEqual([
      "firing:MemoryUsageHigh/warning",
      "firing:MemoryUsageCritical/critical",
    ]);
    clock.advance(1000);
    expect(engine.evaluate(mem(0.97))).toEqual([]); // still firing: no new notice
    clock.advance(1000);
    const gone = engine.evaluate(mem(null));
    expect(gone.map((n) => [n.status, n.labels.alertname, n.startsAtMs, n.endsAtMs])).toEqual([
      ["resolved", "MemoryUsageHigh", T0 + 1000, T0 + 3000],
      ["resolved", "MemoryUsageCritical", T0 + 1000, T0 + 3000],
    ]);
    clock.advance(1000);
    expect(names(engine.evaluate(mem(0.85)))).toEqual(["firing:MemoryUsageHigh/warning"]);
    clock.advance(1000);
    expect(names(engine.evaluate(mem(0.8)))).toEqual(["resolved:MemoryUsageHigh/warning"]);
  });

  it("uses configured thresholds, and a snapshot without host readings raises nothing", () => {
    const clock = new ManualClock(T0);
    const engine = new AlertEngine(
      { ...DEFAULT_CONFIG.alerts, cpuWarningAbove: 0.5, cpuCriticalAbove: 0.6 },
      clock,
    );
    expect(engine.evaluate(base)).toEqual([]);
    clock.advance(1000);
    expect(names(engine.evaluate(at({ cpu: 0.55, memory: null })))).toEqual(["firing:CpuUsageHigh/warning"]);
  });
});

describe("threshold config", () => {
  const issue = (partial: unknown): string => {
    try {
      resolveConfig(partial);
    } catch (e) {
      if (e instanceof InvalidInputError) return JSON.stringify(e.issues);
      throw e;
    }
    return "accepted";
  };

  it("defaults are 002's numbers", () => {
    const a = DEFAULT_CONFIG.alerts;
    expect([a.cpuWarningAbove, a.cpuCriticalAbove, a.memoryWarningAbove, a.memoryCriticalAbove]).toEqual([
      0.8, 0.95, 0.8, 0.95,
    ]);
  });

  it("refuses a percentage, zero, and a warning not below its critical, naming the field", () => {
    expect(issue({ alerts: { cpuWarningAbove: 80 } })).toMatch(/alerts\.cpuWarningAbove.*not 80/);
    expect(issue({ alerts: { memoryCriticalAbove: 0 } })).toMatch(
      /alerts\.memoryCriticalAbove.*fraction in \(0, 1\]/,
    );
    expect(issue({ alerts: { memoryWarningAbove: 0.95 } })).toMatch(
      /alerts\.memoryWarningAbove.*must be below the critical one \(alerts\.memoryCriticalAbove: 0\.95\)/,
    );
    expect(issue({ alerts: { cpuWarningAbove: 0.5, cpuCriticalAbove: 1 } })).toBe("accepted");
  });
});

describe("the monitor reads the host each evaluation", () => {
  it("sets the gauges and raises CpuUsageHigh from the readings; hostRules: false reads nothing", async () => {
    const { AlertMonitor } = await import("../../../reference-service/alerts/monitor.js");
    const { createMetrics } = await import("../../../reference-service/metrics/registry.js");
    const readings: HostUsage[] = [
      { cpu: null, memory: 0.5, cores: 2, memorySource: "meminfo" },
      { cpu: 0.9, memory: 0.5, cores: 2, memorySource: "meminfo" },
      { cpu: 0.2, memory: 0.5, cores: 2, memorySource: "meminfo" },
    ];
    const monitor = (hostRules: boolean) => {
      const clock = new ManualClock(T0);
      const metrics = createMetrics({ running: () => 0, waiting: () => 0, inflight: () => 0 });
      let i = 0;
      const m = new AlertMonitor({
        config: { ...DEFAULT_CONFIG.alerts, hostRules },
        clock,
        metrics,
        snapshot: () => base,
        externalUrl: () => "http://127.0.0.1:1",
        hostUsage: () => readings[i++] ?? { cpu: null, memory: null },
      });
      return { m, clock, metrics };
    };
    const { m, clock, metrics } = monitor(true);
    m.start();
    clock.advance(1000); // first reading: no CPU interval yet
    expect(await metrics.registry.metrics()).not.toMatch(/^faultline_host_cpu_utilization_ratio\{/m);
    expect(await metrics.registry.metrics()).toMatch(
      /^faultline_host_memory_used_ratio\{source="meminfo"\} 0\.5$/m,
    );
    clock.advance(1000);
    expect(m.engine.alerts().map((a) => [a.labels.alertname, a.firedAtMs])).toEqual([
      ["CpuUsageHigh", T0 + 2000],
    ]);
    expect(await metrics.registry.metrics()).toMatch(
      /^faultline_host_cpu_utilization_ratio\{cores="2"\} 0\.9$/m,
    );
    clock.advance(1000);
    expect(m.engine.resolved().map((n) => [n.labels.alertname, n.startsAtMs, n.endsAtMs])).toEqual([
      ["CpuUsageHigh", T0 + 2000, T0 + 3000],
    ]);
    m.stop();

    const off = monitor(false);
    off.m.start();
    off.clock.advance(2000);
    expect(off.m.engine.alerts()).toEqual([]);
    expect(await off.metrics.registry.metrics()).not.toMatch(/^faultline_host_\w+\{/m);
    off.m.stop();
  });
});

describe("hostCritical (the system resource ladder's classification and health check)", () => {
  const t = { cpuCriticalAbove: 0.95, memoryCriticalAbove: 0.95 };
  it("names what is above its critical threshold, nothing at or below it, nothing unknown", () => {
    expect(hostCritical({ cpu: 0.96, memory: 0.5 }, t)).toBe("host CPU usage 96.0% (critical above 95.0%)");
    expect(hostCritical({ cpu: 0.2, memory: 0.971 }, t)).toBe(
      "host memory usage 97.1% (critical above 95.0%)",
    );
    expect(hostCritical({ cpu: 0.95, memory: 0.95 }, t)).toBe(null);
    expect(hostCritical({ cpu: null, memory: null }, t)).toBe(null);
    expect(hostCritical(undefined, t)).toBe(null);
    expect(hostCritical({ cpu: 1, memory: 1 }, t)).toContain(", host memory usage 100.0%");
  });
});
