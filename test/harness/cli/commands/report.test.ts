import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../common/clock.js";
import { isInvalidInputError, type InvalidInputError } from "../../../../common/errors.js";
import type { Runtime } from "../../../../common/runtime.js";
import { reportCommand } from "../../../../harness/cli/commands/report.js";
import { readRunRecord, renderJunit, renderMarkdown, writeReports } from "../../../../reports/index.js";
import { failKill, pass } from "../../../fixtures/records/index.js";

function fakeRuntime(cwd: string): Runtime & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (b: Buffer) => (out += b.toString()));
  stderr.on("data", (b: Buffer) => (err += b.toString()));
  return {
    clock: new ManualClock(0),
    env: {},
    cwd,
    stdout,
    stderr,
    stdin: new PassThrough(),
    onSignal: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}

async function invalid(p: Promise<unknown>): Promise<InvalidInputError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!isInvalidInputError(e)) throw new Error(`expected InvalidInputError, got ${String(e)}`);
  return e;
}

describe("writeReports / reportCommand on real files", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "faultline-reports-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the four files (creating the directory), and the record reads back identical", async () => {
    const paths = await writeReports(join(dir, "new"), failKill);
    expect(paths).toEqual({
      html: join(dir, "new", "report.html"),
      junit: join(dir, "new", "junit.xml"),
      markdown: join(dir, "new", "summary.md"),
      json: join(dir, "new", "run.json"),
    });
    expect(await readRunRecord(join(dir, "new"))).toEqual(failKill);
    expect(await readFile(paths.junit, "utf8")).toBe(renderJunit([failKill]));
    expect(await readFile(paths.markdown, "utf8")).toBe(renderMarkdown([failKill]));
  });

  it("re-renders an old run from its record, printing Markdown to stdout and paths to stderr", async () => {
    const run = join(dir, "runs", "r1");
    await mkdir(run, { recursive: true });
    const original = JSON.stringify(failKill);
    await writeFile(join(run, "run.json"), original);
    const rt = fakeRuntime(dir);
    const result = await reportCommand("runs/r1", {}, rt);
    expect(result.record).toEqual(failKill);
    expect(result.comparison).toBe(null);
    expect(rt.out()).toBe(renderMarkdown([failKill]));
    expect(rt.err().split("\n")).toEqual([
      `wrote ${join(run, "report.html")}`,
      `wrote ${join(run, "junit.xml")}`,
      `wrote ${join(run, "summary.md")}`,
      "",
    ]);
    // The record itself is left byte for byte as the run wrote it.
    expect(await readFile(join(run, "run.json"), "utf8")).toBe(original);
  });

  it("compares against a baseline run directory and writes compare.html and compare.md", async () => {
    await writeReports(join(dir, "base"), pass);
    await writeReports(join(dir, "next"), failKill);
    const rt = fakeRuntime(dir);
    const result = await reportCommand("next", { compare: "base" }, rt);
    // pass -> failKill: verdict, availability, uptime, their answered-level rows, p95, p99 and
    // SLO availability regress (pass predates levels: its full service is not comparable);
    // p50 and the p99 SLO hold; the runs share no faults.
    expect(result.comparison?.regressions).toBe(8);
    expect(rt.out().split("\n")[0]).toBe("### faultline compare: 8 regressions, 0 improvements");
    // What only the new run has is listed, not judged (the full-service level included).
    expect(
      result.comparison?.deltas
        .filter((d) => d.status === "not-comparable")
        .map((d) => [d.id, d.base, d.next]),
    ).toEqual([
      ["availability.full", null, 272 / 300],
      ["uptime.full", null, 24 / 30],
      ["fault.kill-worker", "absent", "present"],
      ["fault.slow-api", "absent", "present"],
      ["slo.recover-kill-worker", "absent", "present"],
      ["slo.uptime", "absent", "present"],
    ]);
    expect(await readFile(join(dir, "next", "compare.md"), "utf8")).toBe(rt.out());
    expect((await readFile(join(dir, "next", "compare.html"), "utf8")).includes('data-regressions="8"')).toBe(
      true,
    );
  });

  it("names the missing file and the fix for a directory without a record", async () => {
    const e = await invalid(reportCommand("nowhere", {}, fakeRuntime(dir)));
    expect(e.issues).toEqual([
      { file: join(dir, "nowhere", "run.json"), path: "", message: "no run record here" },
    ]);
    expect(e.hint).toBe("pass the directory of one run, e.g. runs/20261123T171553Z-kill-worker");
  });

  it("reports every damaged field of a record at once, by path", async () => {
    const broken = { ...failKill, verdict: "maybe", load: { ...failKill.load, targetRate: -1 } };
    await writeFile(join(dir, "run.json"), JSON.stringify(broken));
    const e = await invalid(readRunRecord(dir));
    expect(e.issues.map((i) => i.path).sort()).toEqual(["load.targetRate", "verdict"]);
    expect(e.hint).toBe(
      "the run record does not match schema version 1; it may come from another faultline version",
    );
  });

  it("refuses a record of another schema version with the versions named", async () => {
    await writeFile(join(dir, "run.json"), JSON.stringify({ ...failKill, schemaVersion: 2 }));
    const e = await invalid(readRunRecord(dir));
    expect(e.issues[0]?.message).toBe("version 2 is not supported (this faultline reads 1)");
  });

  it("says a record that is not JSON is not JSON", async () => {
    await writeFile(join(dir, "run.json"), "{ nope");
    const e = await invalid(readRunRecord(dir));
    expect(e.issues[0]?.message.startsWith("not valid JSON: ")).toBe(true);
  });
});
