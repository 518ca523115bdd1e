import { execFileSync } from "node:child_process";
import { gateTool, missingTool } from "../system-tools.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderJunit } from "../../reports/index.js";
import {
  aborted,
  failKill,
  hostile,
  HOSTILE_NAME,
  pass,
  retried,
  voided,
} from "../fixtures/records/index.js";
import { elements, parseMarkup, textOf, type Node } from "./markup.js";

/**
 * The rules of the common JUnit XML shape (test/fixtures/junit/junit.xsd states the same):
 * <testsuites> holds <testsuite>s; a testsuite needs name and tests; tests/failures/errors/
 * skipped are non-negative integers that agree with its testcases; time is decimal seconds;
 * timestamp is ISO-8601 without a zone; children in order properties?, testcase*; a testcase
 * needs name, and holds skipped?, error*, failure*.
 */
const XSD = fileURLToPath(new URL("../fixtures/junit/junit.xsd", import.meta.url));
const XMLLINT = "/usr/bin/xmllint";

const xml = renderJunit([failKill, pass, aborted, voided]);
const root = parseMarkup(xml);
const suitesEl = elements(root)[0];
const suites = elements(suitesEl);

const kinds = (tc: Node): string[] => elements(tc).map((c) => c.name);

function checkSuiteRules(suite: Node): void {
  expect(suite.name).toBe("testsuite");
  for (const a of ["tests", "failures", "errors", "skipped"]) expect(suite.attrs[a]).toMatch(/^\d+$/);
  expect(suite.attrs.time).toMatch(/^\d+(\.\d+)?$/);
  expect(suite.attrs.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  const children = elements(suite).map((c) => c.name);
  expect(children[0]).toBe("properties");
  expect(children.slice(1).every((c) => c === "testcase")).toBe(true);
  const cases = elements(suite).filter((c) => c.name === "testcase");
  const has = (k: string): number => cases.filter((c) => kinds(c).includes(k)).length;
  expect([cases.length, has("failure"), has("error"), has("skipped")]).toEqual(
    ["tests", "failures", "errors", "skipped"].map((a) => Number(suite.attrs[a])),
  );
  for (const c of cases) {
    expect(c.attrs.name?.length).toBeGreaterThan(0);
    const k = kinds(c);
    expect(k).toEqual(
      [...k].sort(
        (a, b) => ["skipped", "error", "failure"].indexOf(a) - ["skipped", "error", "failure"].indexOf(b),
      ),
    );
  }
}

describe("JUnit XML", () => {
  it("has one testsuite per run with totals that add up", () => {
    expect(suitesEl.name).toBe("testsuites");
    expect(suitesEl.attrs).toEqual({
      name: "faultline",
      tests: "10",
      failures: "2",
      errors: "2",
      time: "75.000",
    });
    expect(
      suites.map((s) => [s.attrs.name, s.attrs.tests, s.attrs.failures, s.attrs.errors, s.attrs.skipped]),
    ).toEqual([
      ["worker-kill", "4", "2", "0", "0"],
      ["baseline", "2", "0", "0", "0"],
      ["stall", "3", "0", "1", "2"],
      ["unsteady", "1", "0", "1", "0"],
    ]);
    suites.forEach(checkSuiteRules);
  });

  it("has one testcase per SLO, failures carrying the measured value and the bound", () => {
    const cases = elements(suites[0]).filter((c) => c.name === "testcase");
    expect(cases.map((c) => [c.attrs.name, c.attrs.classname, kinds(c)])).toEqual([
      ["SLO availability >= 99.9%", "faultline.worker-kill", ["failure"]],
      ["SLO p99 <= 500ms", "faultline.worker-kill", []],
      ["SLO recover(kill-worker) <= 5s", "faultline.worker-kill", ["failure"]],
      ["SLO uptime >= 80%", "faultline.worker-kill", []],
    ]);
    const failure = elements(cases[2])[0];
    expect(failure.attrs).toEqual({
      message: "recover(kill-worker) <= 5s: measured 6.00 s vs bound <= 5.00 s (missed by 1.00 s)",
      type: "SloMissed",
    });
    expect(textOf(failure)).toBe(
      "slo: recover-kill-worker metric: timeToRecover measured: 6.00 s (6000) bound: <= 5.00 s (5000) margin: -1000 fault: kill-worker",
    );
    expect(elements(cases[0])[0].attrs.message).toBe(
      "availability >= 99.9%: measured 96.667% vs bound >= 99.900% (missed by 3.233 pp)",
    );
  });

  it("reports aborted and void runs as errors, with SLOs skipped", () => {
    const stall = elements(suites[2]).filter((c) => c.name === "testcase");
    expect(stall.map((c) => [c.attrs.name, kinds(c)])).toEqual([
      ["run completed", ["error"]],
      ["SLO availability >= 99.9%", ["skipped"]],
      ["SLO p99 <= 500ms", ["skipped"]],
    ]);
    expect(elements(stall[0])[0].attrs).toEqual({
      message: "run aborted: max in-flight (256) reached for 3 s: target stalled",
      type: "RunAborted",
    });
    expect(elements(stall[1])[0].attrs.message).toBe(
      "not evaluated: run aborted (measured 100.000% vs bound >= 99.900% (met with 0.100 pp to spare))",
    );
    const unsteady = elements(suites[3]).filter((c) => c.name === "testcase");
    expect(elements(unsteady[0])[0].attrs.type).toBe("RunVoid");
  });

  it("keeps hostile strings as data and drops characters XML cannot carry", () => {
    const doc = parseMarkup(renderJunit([hostile]));
    const suite = elements(elements(doc)[0])[0];
    expect(suite.attrs.name).toBe(HOSTILE_NAME.replace("\u0001", "\uFFFD"));
    const faultCase = elements(suite).filter((c) => c.name === "testcase")[0];
    expect(faultCase.attrs.name).toBe('fault kill"><b> injected and reverted');
    expect(elements(faultCase)[0].attrs.message).toContain("lone \uFFFD surrogate");
  });

  const noXmllint = gateTool(missingTool(XMLLINT, ["--version"], "libxml2-utils"), "JUnit XSD validation");
  describe.skipIf(noXmllint)("validated against the JUnit XSD with xmllint", () => {
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "faultline-junit-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("xmllint accepts every fixture's report (needs Debian's libxml2-utils)", async () => {
      const file = join(dir, "junit.xml");
      await writeFile(file, renderJunit([failKill, pass, aborted, voided, hostile, retried]));
      const out = execFileSync(XMLLINT, ["--noout", "--schema", XSD, file], {
        encoding: "utf8",
        stdio: "pipe",
      });
      expect(out).toBe("");
    });

    it("and the XSD is strict enough to reject a testsuite without tests", async () => {
      const file = join(dir, "bad.xml");
      await writeFile(file, xml.replace(/ tests="4"/, ""));
      expect(() => execFileSync(XMLLINT, ["--noout", "--schema", XSD, file], { stdio: "pipe" })).toThrow(
        /attribute 'tests' is required/,
      );
    });
  });
});
