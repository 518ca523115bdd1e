import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../../harness/record/schema.js";
import { renderMarkdown } from "../../../reports/index.js";
import { signalWhen, spawnCli, spawnCliProcess } from "./helpers.js";

/**
 * `faultline run` end to end through the real CLI process, against a local HTTP server that
 * misbehaves on purpose (a `url` target), so the exit codes 1 and 3, the abort path and the
 * record are exercised without the reference service.
 */
type Handler = (path: string, n: number) => number;

let server: Server;
let dir: string;
let hits: Record<string, number>;
let handler: Handler;
/** Headers every answer carries (a target marking its service level its own way). */
let extraHeaders: Record<string, string>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-run-"));
  hits = {};
  handler = () => 200;
  extraHeaders = {};
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits[path] = (hits[path] ?? 0) + 1;
    res.writeHead(handler(path, hits[path]), { "content-type": "text/plain", ...extraHeaders }).end("x");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const baseUrl = (): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function runScenario(
  yaml: string,
): Promise<{ code: number | null; stderr: string; record: RunRecord; journal: string[] }> {
  await writeFile(join(dir, "s.yaml"), yaml);
  const env = {
    FAULTLINE_JOURNAL_DIR: join(dir, "journal"),
    GITHUB_STEP_SUMMARY: join(dir, "step-summary.md"),
  };
  const r = await spawnCli(["run", "s.yaml", "--runs-dir", "runs", "--no-reports"], {
    cwd: dir,
    env,
    timeoutMs: 90_000,
  });
  const [runId] = await readdir(join(dir, "runs"));
  const record = JSON.parse(await readFile(join(dir, "runs", runId ?? "", "run.json"), "utf8")) as RunRecord;
  const journal = await readdir(join(dir, "journal")).catch(() => []);
  return { code: r.code, stderr: r.stderr, record, journal };
}

const header = (name: string, load: string, extra = ""): string => `name: ${name}
target: { kind: url, baseUrl: "${baseUrl()}" }
load:
  ${load}
  mix: [{ kind: http, path: /work }]
  deadline: 2s
${extra}`;

describe("faultline run (real CLI, url target)", { timeout: 120_000 }, () => {
  it("steady state not met before faults: exit 3, void record, no fault injected, no load sent", async () => {
    handler = (path) => (path === "/health" ? 503 : 200);
    const r = await runScenario(
      header(
        "steady-fails",
        "rate: 10\n  duration: 3s",
        `steadyState:
  before: [{ kind: http, url: /health, status: 200 }]
faults:
  - { id: burst, kind: load-burst, target: load, at: 1s, duration: 1s, params: { multiplier: 2 } }
slos: [{ kind: availability, min: 0.99 }]
`,
      ),
    );
    expect(r.code).toBe(3);
    expect(r.record.status).toBe("void");
    expect(r.record.verdict).toBe("void");
    expect(r.record.statusReason).toBe(
      "steady state not met before faults (GET /health -> 200: expected HTTP 200, got HTTP 503); no fault was injected",
    );
    expect(r.record.faults).toEqual([]);
    expect(r.record.events.filter((e) => e.kind.startsWith("fault"))).toEqual([]);
    expect(hits["/work"]).toBe(undefined);
    expect(r.journal).toEqual([]);
    expect(r.stderr).toContain("steady-fails: void: steady state not met before faults");
  });

  it("an SLO the target cannot meet: exit 1, and the summary names the SLO and the miss", async () => {
    handler = () => 500;
    const r = await runScenario(
      header(
        "always-500",
        "rate: 10\n  duration: 2s",
        "slos: [{ id: avail, kind: availability, min: 0.999 }]\n",
      ),
    );
    expect(r.code).toBe(1);
    expect(r.record.verdict).toBe("fail");
    expect(r.record.totals).toEqual({ ok: 0, degraded: 0, shed: 0, error: 20, timeout: 0, conn: 0 });
    expect(r.record.slos.map((s) => [s.id, s.passed, s.measured, s.margin])).toEqual([
      ["avail", false, 0, -0.999],
    ]);
    expect(r.stderr).toContain(
      "always-500: missed availability (full service) >= 99.9%: measured 0.000%, missed by 99.9 pp\n",
    );
    // GitHub Actions: the reports' Markdown summary was appended to the step summary file.
    const summary = await readFile(join(dir, "step-summary.md"), "utf8");
    expect(summary).toBe(`${renderMarkdown([r.record])}\n`);
  });

  it("judges a target by its own level marking (target.levels): fallback answers are answered, not full", async () => {
    extraHeaders = { "x-served-by": "cache" };
    const yaml = header(
      "own-marking",
      "rate: 10\n  duration: 2s",
      "slos:\n  - { id: answered, kind: availability, min: 0.999, level: answered }\n  - { id: full, kind: availability, min: 0.5 }\n",
    ).replace(
      /target: \{ kind: url, baseUrl: "([^"]+)" \}/,
      'target: { kind: url, baseUrl: "$1", levels: { header: x-served-by, full: [primary] } }',
    );
    const r = await runScenario(yaml);
    expect(r.code).toBe(1);
    expect(r.record.totals).toEqual({ ok: 0, degraded: 20, shed: 0, error: 0, timeout: 0, conn: 0 });
    expect(r.record.levels).toEqual({
      answered: { availability: 1, uptime: 1 },
      full: { availability: 0, uptime: 0 },
    });
    expect(r.record.slos.map((s) => [s.id, s.passed, s.measured])).toEqual([
      ["answered", true, 1],
      ["full", false, 0],
    ]);
  });

  it("an abort condition met mid-run: the fault is rolled back at once and the run is marked aborted", async () => {
    // Healthy for the first 20 requests of the run (2 s at 10/s, plus 5 warm-up requests), then every answer is 500.
    handler = (path, n) => (path === "/work" && n > 25 ? 500 : 200);
    const r = await runScenario(
      header(
        "aborts",
        "rate: 10\n  duration: 10s",
        `faults:
  - { id: slow, kind: net-latency, target: "link:client-api", at: 500ms, duration: 9s, params: { latency: 5 } }
slos: [{ kind: availability, min: 0.5 }]
abort: [{ kind: availability-below, min: 0.5, over: 1s }]
`,
      ),
    );
    expect(r.code).toBe(1);
    expect(r.record.status).toBe("aborted");
    expect(r.record.verdict).toBe("aborted");
    const kinds = r.record.events
      .filter((e) => ["fault-injected", "abort", "fault-reverted"].includes(e.kind))
      .map((e) => e.kind);
    expect(kinds).toEqual(["fault-injected", "abort", "fault-reverted"]);
    const abortAt = r.record.events.find((e) => e.kind === "abort")?.tMs ?? NaN;
    const [fault] = r.record.faults;
    // Planned to hold until 9.5 s; reverted right after the abort instead (the revert is one
    // Toxiproxy API call on loopback: 500 ms leaves room for a loaded machine).
    expect(fault?.revertedAtMs).toBeGreaterThanOrEqual(abortAt);
    expect((fault?.revertedAtMs ?? NaN) - abortAt).toBeLessThan(500);
    expect(abortAt).toBeLessThan(9500);
    expect(r.journal).toEqual([]);
    expect(r.record.statusReason?.startsWith("abort condition met: availability ")).toBe(true);
  });

  it("SIGINT mid-fault: the fault is reverted, the record is written, exit 1", async () => {
    await writeFile(
      join(dir, "s.yaml"),
      header(
        "interrupted",
        "rate: 10\n  duration: 30s",
        `faults:
  - { id: slow, kind: net-latency, target: "link:client-api", at: 500ms, duration: 25s, params: { latency: 5 } }
slos: [{ kind: availability, min: 0.5 }]
`,
      ),
    );
    const env = { FAULTLINE_JOURNAL_DIR: join(dir, "journal") };
    const child = spawnCliProcess(["run", "s.yaml", "--runs-dir", "runs", "--no-reports"], { cwd: dir, env });
    expect(await signalWhen(child, "fault-injected", "SIGINT")).toBe(1);
    const [runId] = await readdir(join(dir, "runs"));
    const record = JSON.parse(
      await readFile(join(dir, "runs", runId ?? "", "run.json"), "utf8"),
    ) as RunRecord;
    expect(record.status).toBe("aborted");
    expect(record.statusReason).toBe("interrupted (SIGINT); faults rolled back");
    expect(record.events.filter((e) => e.kind.startsWith("fault")).map((e) => e.kind)).toEqual([
      "fault-injected",
      "fault-reverted",
    ]);
    expect(await readdir(join(dir, "journal"))).toEqual([]);
  });

  it("reporting.formats decides what is written: [json] leaves run.json alone, [markdown] adds summary.md", async () => {
    const files = async (formats: string): Promise<string[]> => {
      const runs = `runs-${formats.replace(/\W/g, "")}`;
      await writeFile(
        join(dir, "s.yaml"),
        header(
          "formats",
          "rate: 10\n  duration: 1s",
          `slos: [{ kind: availability, min: 0.5 }]\nreporting: { formats: [${formats}], requests: false }\n`,
        ),
      );
      const r = await spawnCli(["run", "s.yaml", "--runs-dir", runs], {
        cwd: dir,
        env: { FAULTLINE_JOURNAL_DIR: join(dir, "journal") },
        timeoutMs: 60_000,
      });
      expect(r.code).toBe(0);
      const [runId] = await readdir(join(dir, runs));
      return (await readdir(join(dir, runs, runId ?? ""))).sort();
    };
    expect(await files("json")).toEqual(["run.json"]);
    expect(await files("json, markdown")).toEqual(["run.json", "summary.md"]);
  });

  it("the timeline faultline plan prints is the one the run executes: ids, occurrences, planned times, order", async () => {
    // Two faults starting together (ties keep the file's order) and a repeated one.
    const yaml = header(
      "plan-is-run",
      "rate: 10\n  duration: 3s",
      `faults:
  - { id: slow, kind: net-latency, target: "link:client-api", at: 1s, duration: 1s, params: { latency: 5 } }
  - { id: burst, kind: load-burst, target: load, at: 500ms, duration: 300ms, params: { multiplier: 2 }, repeat: { every: 500ms, times: 3 } }
slos: [{ kind: availability, min: 0.5 }]
`,
    );
    await writeFile(join(dir, "s.yaml"), yaml);
    const planned = await spawnCli(["plan", "s.yaml", "--json"], { cwd: dir });
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as {
      durationMs: number;
      faults: { id: string; startMs: number; endMs: number | null }[];
    };
    const r = await runScenario(yaml);
    expect(r.code).toBe(0);
    const ran = r.record.faults.map((f) => [f.id, f.startMs, f.endMs]);
    expect(ran).toEqual(plan.faults.map((f) => [f.id, f.startMs, f.endMs]));
    expect(ran).toEqual([
      ["burst#1", 500, 800],
      ["slow", 1000, 2000],
      ["burst#2", 1000, 1300],
      ["burst#3", 1500, 1800],
    ]);
    // Every planned occurrence was injected (none skipped, none added).
    expect(r.record.faults.every((f) => f.injectedAtMs !== null)).toBe(true);
  });
});
