import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../../harness/cli/program.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { captureRuntime } from "../cli/helpers.js";

/**
 * `faultline gameday` in-process: every refusal happens before a target starts, so these runs
 * touch nothing but the scenario file; the whole session in a terminal is cli-pty.test.ts.
 */
const root = fileURLToPath(new URL("../../..", import.meta.url));
const FILE = "test/harness/dashboard/fixtures/gameday.yaml";
const unused = (): never => {
  throw new Error("not reached in these tests");
};
const deps = {
  version: "0.0.0-test",
  catalog: FAULT_KINDS,
  runScenarios: unused,
  report: unused,
  cleanup: unused,
  serveReference: unused,
  toxiproxy: unused,
};

let runs = "";
beforeAll(async () => {
  runs = await mkdtemp(join(tmpdir(), "faultline-gameday-cmd-"));
});
afterAll(async () => {
  await rm(runs, { recursive: true, force: true });
});

/** A captured runtime whose ends are (or are not) terminals. */
function terminal(tty: { stdout: boolean; stdin: boolean }, env: Record<string, string> = {}) {
  const rt = captureRuntime(root, env);
  Object.assign(rt.stdout, { isTTY: tty.stdout });
  Object.assign(rt.stdin, { isTTY: tty.stdin });
  return rt;
}

async function gameday(rt: ReturnType<typeof terminal>, ...extra: string[]) {
  const code = await run(["gameday", FILE, "--runs-dir", runs, ...extra], rt, deps);
  return { code, err: rt.err().split("\n").filter(Boolean), out: rt.out() };
}

const HINT = "hint: run it in a terminal; for an unattended run with a planned end use `faultline run FILE`";

describe("faultline gameday refuses what cannot be a game day (exit 2, nothing started)", () => {
  it("stdout not a terminal", async () => {
    const r = await gameday(terminal({ stdout: false, stdin: true }));
    expect(r).toEqual({
      code: 2,
      err: [
        "faultline: invalid input (1 problem):",
        "  stdout: not a terminal: a game day is steered from the live dashboard",
        HINT,
      ],
      out: "",
    });
  });

  it("stdin not a terminal", async () => {
    const r = await gameday(terminal({ stdout: true, stdin: false }));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "faultline: invalid input (1 problem):",
      "  stdin: not a terminal: the keys q, a, f and p are read from it",
      HINT,
    ]);
  });

  it("CI set (ink would draw only the last frame)", async () => {
    const r = await gameday(terminal({ stdout: true, stdin: true }, { CI: "true" }));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "faultline: invalid input (1 problem):",
      "  CI: set (CI=true): the live dashboard is off under CI",
      "hint: unset it for this command, e.g. `env -u CI faultline gameday FILE`",
    ]);
  });

  it("a --max-duration shorter than the file's own load", async () => {
    const r = await gameday(terminal({ stdout: true, stdin: true }), "--max-duration", "3s");
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "faultline: invalid input (1 problem):",
      "  --max-duration: 3s is shorter than the file's load (5s) (fix: give at least 5s, or shorten load.duration)",
    ]);
  });

  it("a --max-duration that is not a duration", async () => {
    const r = await gameday(terminal({ stdout: true, stdin: true }), "--max-duration", "4");
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `faultline: option '--max-duration <duration>' argument '4' is invalid. expected a duration such as "2h", found "4"`,
    ]);
    expect(await readdir(runs)).toEqual([]);
  });
});
