import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import {
  buildRunRecord,
  decodeRequests,
  loadSection,
  encodeRequests,
  readRunRecord,
  requestsFileSize,
  runId,
  uniqueRunId,
  writeRunRecord,
  type RunRecordInputs,
} from "../../../harness/record/index.js";
import { analyzeRun, columnsFromRows, type RequestRow } from "../../../harness/sla/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "faultline-record-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rows: RequestRow[] = [
  { intended: 0, sent: 0.5, firstByte: 3, end: 10, outcome: "ok", status: 200, bytes: 42, template: 0 },
  {
    intended: 500,
    sent: 501,
    firstByte: 520,
    end: 530,
    outcome: "degraded",
    status: 200,
    bytes: 40,
    template: 1,
  },
  { intended: 1000, sent: 1000.25, end: 1100, outcome: "shed", status: 503, bytes: 4, template: 0 },
  {
    intended: 1500,
    sent: Number.NaN,
    firstByte: Number.NaN,
    end: 3500,
    outcome: "timeout",
    status: 0,
    template: 0,
  },
];
const columns = columnsFromRows(rows);

function inputs(
  over: Partial<RunRecordInputs> = {},
  level: "answered" | "full" | "unset" = "answered",
): RunRecordInputs {
  const sla = analyzeRun({
    columns,
    durationMs: 2000,
    faults: [{ id: "kill-1", kind: "process-kill", startMs: 1000, endMs: null }],
    // The headline follows the availability SLO's level, as harness/runner/analysis.ts does.
    slos: [{ kind: "availability", min: 0.5, ...(level === "unset" ? {} : { level }) }],
    degradedCountsAsGood: level === "answered",
    stabilityMs: 1000,
    seed: 7,
  });
  return {
    scenario: { name: "Kill the Worker!", file: "scenarios/kill.yaml", seed: 7, source: { name: "kill" } },
    status: "completed",
    startedAtMs: Date.UTC(2026, 10, 23, 17, 15, 53, 123),
    endedAtMs: Date.UTC(2026, 10, 23, 17, 15, 56, 0),
    environment: {
      faultline: "0.1.0",
      node: "v20.19.0",
      platform: "linux",
      arch: "x64",
      cpus: 2,
      memoryBytes: 8e9,
      hostname: "h",
    },
    target: { kind: "url", url: "http://127.0.0.1:1", description: "test" },
    load: {
      targetRate: 2,
      achievedRate: 2,
      deadlineMs: 2000,
      maxInFlight: 8,
      maxInFlightHits: 0,
      sendLagP99Ms: 1,
    },
    sla,
    faults: [
      {
        id: "kill-1",
        kind: "process-kill",
        target: "worker",
        description: "SIGKILL the worker",
        params: { signal: "SIGKILL" },
        startMs: 1000,
        endMs: null,
        injectedAtMs: 1001,
        revertedAtMs: null,
      },
    ],
    requestTemplates: ["chat", "embedding"],
    ...over,
  };
}

describe("run ids", () => {
  it.each([
    { name: "Kill the Worker!", id: "20261123T171553Z-kill-the-worker" },
    { name: "ci.smoke_v2", id: "20261123T171553Z-ci-smoke-v2" },
    { name: "!!!", id: "20261123T171553Z-run" },
  ])("$name -> $id", ({ name, id }) => {
    expect(runId(Date.UTC(2026, 10, 23, 17, 15, 53, 999), name)).toBe(id);
  });

  it("adds -2, -3 for runs in the same second", () => {
    const taken = new Set(["a", "a-2"]);
    expect(uniqueRunId("a", (c) => taken.has(c))).toBe("a-3");
    expect(uniqueRunId("b", (c) => taken.has(c))).toBe("b");
  });
});

describe("buildRunRecord", () => {
  it("assembles a valid record with fault timings merged by id and a verdict", () => {
    const r = buildRunRecord(inputs());
    expect(r.id).toBe("20261123T171553Z-kill-the-worker");
    expect(r.durationMs).toBe(2877);
    expect(r.verdict).toBe("pass");
    expect(r.totals).toEqual({ ok: 1, degraded: 1, shed: 1, error: 0, timeout: 1, conn: 0 });
    expect(r.availability).toEqual({ value: 0.5, degradedCountsAsGood: true });
    // Both levels side by side: the degraded answer is good only at the answered level.
    expect(r.levels).toEqual({
      answered: { availability: 0.5, uptime: 0.5 },
      // Windows of 1 s: [0,1000) holds ok+degraded, [1000,2000) shed+timeout; at full service
      // neither reaches the 0.99 good ratio.
      full: { availability: 0.25, uptime: 0 },
    });
    expect(r.faults).toEqual([
      {
        id: "kill-1",
        kind: "process-kill",
        target: "worker",
        description: "SIGKILL the worker",
        params: { signal: "SIGKILL" },
        startMs: 1000,
        endMs: null,
        injectedAtMs: 1001,
        revertedAtMs: null,
        // The shed answer ended at 1100: detected 100 ms after the kill.
        timeToDetectMs: 100,
        // Nothing healthy after the kill within the 2 s run: never recovered, at either level.
        timeToRecoverMs: null,
        timeToAnswerAgainMs: null,
        timeToFullServiceMs: null,
        recovered: false,
        requests: { total: 2, failed: 2, degraded: 0 },
      },
    ]);
    expect(r.downtime).toEqual([{ startMs: 1000, endMs: 2000 }]);
    expect(r.requestTemplates).toEqual(["chat", "embedding"]);
  });

  it("judges an availability SLO without a level at full service: the degraded answer is down", () => {
    // The behaviour #15 changed: the same run passed when a fallback answer counted as service.
    const r = buildRunRecord(inputs({}, "unset"));
    expect(r.availability).toEqual({ value: 0.25, degradedCountsAsGood: false });
    expect(r.slos.map((s) => [s.description, s.measured, s.passed])).toEqual([
      ["availability (full service) >= 50%", 0.25, false],
    ]);
    expect(r.verdict).toBe("fail");
  });

  it.each([
    { name: "aborted", over: { status: "aborted" as const, statusReason: "Ctrl-C" }, verdict: "aborted" },
    { name: "void", over: { status: "void" as const }, verdict: "void" },
    {
      name: "a failed steady-state check fails the run",
      over: { steadyState: { before: [], after: [{ name: "ready", passed: false, detail: "503" }] } },
      verdict: "fail",
    },
  ])("verdict: $name", ({ over, verdict }) => {
    expect(buildRunRecord(inputs(over)).verdict).toBe(verdict);
  });

  it("refuses an invalid record, naming every bad field", () => {
    const bad = inputs({
      load: {
        targetRate: -1,
        achievedRate: 2,
        deadlineMs: 2000,
        maxInFlight: 0,
        maxInFlightHits: 0,
        sendLagP99Ms: null,
      },
    });
    let err: unknown;
    try {
      buildRunRecord(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).issues.map((i) => i.path)).toEqual([
      "load.targetRate",
      "load.maxInFlight",
    ]);
  });
});

describe("writeRunRecord / readRunRecord", () => {
  it("round-trips the record and the per-request columns, NaN included", async () => {
    const written = await writeRunRecord(dir, buildRunRecord(inputs()), columns);
    expect(written.requestsFile).toBe("requests.bin");
    const loaded = await readRunRecord(dir);
    expect(loaded.record).toEqual(written);
    const back = await loaded.requests();
    expect(back).toEqual(columns);
    expect((await readFile(path.join(dir, "requests.bin"))).length).toBe(16 + 4 * 40);
  });

  it("without columns the record names no requests file", async () => {
    await writeRunRecord(dir, buildRunRecord(inputs()));
    const loaded = await readRunRecord(dir);
    expect([loaded.record.requestsFile, await loaded.requests()]).toEqual([null, null]);
  });

  const readError = async (): Promise<string> => {
    try {
      await readRunRecord(dir);
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };

  it("reports schema errors with file and field", async () => {
    const r = JSON.parse(JSON.stringify(buildRunRecord(inputs()))) as Record<string, unknown>;
    (r.totals as Record<string, unknown>).ok = "one";
    delete r.id;
    await writeFile(path.join(dir, "run.json"), JSON.stringify(r));
    const file = path.join(dir, "run.json");
    expect(await readError()).toBe(
      [
        `${file}: id: Invalid input: expected string, received undefined`,
        `${file}: totals.ok: Invalid input: expected number, received string`,
      ].join("\n"),
    );
  });

  it.each([
    { name: "missing", content: null, message: "no run record here" },
    { name: "not JSON", content: "{", message: "not valid JSON" },
    {
      name: "another version",
      content: '{"schemaVersion": 2}',
      message: "schemaVersion: version 2 is not supported (this faultline reads 1)",
    },
  ])("reports a $name record clearly", async ({ content, message }) => {
    if (content !== null) await writeFile(path.join(dir, "run.json"), content);
    expect(await readError()).toContain(message);
  });

  it("reports a truncated requests file", async () => {
    await writeRunRecord(dir, buildRunRecord(inputs()), columns);
    const file = path.join(dir, "requests.bin");
    await writeFile(file, (await readFile(file)).subarray(0, 100));
    const loaded = await readRunRecord(dir);
    await expect(loaded.requests()).rejects.toThrow(
      `${file}: (root): requests file is 100 bytes; 4 rows need 176 (truncated or corrupt)`,
    );
  });
});

describe("loadSection", () => {
  it("takes the run's figures and the options it ran with", () => {
    const result = { targetRate: 100, achievedRate: 99.5, maxInFlightHits: 3, sendLagP99Ms: 1.25 };
    expect(loadSection(result, { deadlineMs: 2000, maxInFlight: 64 })).toEqual({
      targetRate: 100,
      achievedRate: 99.5,
      deadlineMs: 2000,
      maxInFlight: 64,
      maxInFlightHits: 3,
      sendLagP99Ms: 1.25,
    });
  });
});

describe("requests file encoding", () => {
  it("is 16 + 40 n bytes and decodes what it encoded", () => {
    const buf = encodeRequests(columns);
    expect(buf.length).toBe(requestsFileSize(4));
    expect(buf.toString("latin1", 0, 4)).toBe("FLRQ");
    expect(decodeRequests(buf)).toEqual(columns);
    expect(() => decodeRequests(Buffer.from("nope"))).toThrow("not a faultline requests file (bad magic)");
  });
});
