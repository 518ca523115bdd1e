import { spawnSync } from "node:child_process";
import { gateTool, missingTool } from "../../system-tools.js";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRunRecord } from "../../../harness/record/io.js";
import type { RunRecord } from "../../../harness/record/schema.js";
import { lines, TmuxPane } from "./tmux.js";

/**
 * The acceptance test of the dashboard: the real CLI (bin/faultline.js, from dist/) in a real
 * pseudo-terminal against the real reference service, read from the screen and driven by keys
 * as a person would. `npm test` builds dist/ before the tests; alone, run `npm run build` first.
 * No wall-clock assertion: every wait is for something on the screen, with a generous bound
 * because the target starts on a shared 2-core machine.
 */
const root = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = join(root, "dist/harness/cli/main.js");

let dir = "";
let pane: TmuxPane | null = null;
const runs = (): string => join(dir, "runs");
const journal = (): string => join(dir, "journal");

beforeEach(async () => {
  if (!existsSync(CLI))
    throw new Error("dist/harness/cli/main.js is missing: run `npm run build` first (npm test does)");
  dir = await mkdtemp(join(tmpdir(), "faultline-cli-pty-"));
});

afterEach(async () => {
  // A test that failed midway leaves the CLI running: abort it (faults reverted, target
  // stopped), then Ctrl-C in case the dashboard was not up yet, before the pane goes.
  const p = pane;
  pane = null;
  if (p && !p.screen().includes("EXIT=")) {
    for (const key of ["a", "C-c"]) {
      p.keys(key);
      const exited = await p
        .waitFor("the CLI to exit", (s) => s.includes("EXIT="), 30_000)
        .then(
          () => true,
          () => false,
        );
      if (exited) break;
    }
  }
  p?.kill();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `faultline <args>` in an 80x24 pane, without CI in its environment (ink draws only a last frame under CI). */
function startCli(name: string, args: string): TmuxPane {
  pane = new TmuxPane(name);
  pane.start(
    `env -u CI FAULTLINE_JOURNAL_DIR=${journal()} node bin/faultline.js ${args} --runs-dir ${runs()} --no-reports; echo "EXIT=$?"`,
    root,
  );
  return pane;
}

function exitCodeOn(screen: string): number {
  const m = /EXIT=(\d+)/.exec(screen);
  if (!m?.[1]) throw new Error(`no exit code on the screen:\n${screen}`);
  return Number(m[1]);
}

async function onlyRecord(): Promise<RunRecord> {
  const ids = await readdir(runs());
  expect(ids).toHaveLength(1);
  return (await readRunRecord(join(runs(), ids[0] ?? ""))).record;
}

/** `faultline cleanup` over the same journal: after a clean rollback it finds nothing. */
function cleanup(): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/faultline.js", "cleanup"], {
    cwd: root,
    env: { ...process.env, FAULTLINE_JOURNAL_DIR: journal() },
    encoding: "utf8",
  });
  return { status: r.status, stderr: r.stderr };
}

// Achieved is sends over the last ~2 s: at a steady 20 req/s it reads 20, one send either side
// of a window edge moves it by 0.5, so 18-22 means "the load is at its rate".
const atRate = (screen: string): boolean =>
  lines(screen).some((l) => {
    const m = /^Rate {6}(\d+(?:\.\d)?)\/s sent of 20\/s target, in flight \d+$/.exec(l);
    return m !== null && Number(m[1]) >= 18 && Number(m[1]) <= 22;
  });

const noTmux = gateTool(missingTool("tmux", ["-V"], "tmux"), "pseudo-terminal CLI tests");

describe.skipIf(noTmux)(
  "faultline run in a real pty (reference service, 20 req/s, worker frozen at 3 s)",
  () => {
    it("shows the rate and the fault's activation; q reverts the fault and writes the record", async () => {
      const p = startCli("run", "run test/harness/dashboard/fixtures/run-freeze.yaml");
      const first = await p.waitFor(
        "the dashboard",
        (s) => s.includes("faultline · dashboard-run-e2e"),
        90_000,
      );
      expect(lines(first).every((l) => l.length <= 80)).toBe(true);
      expect(lines(first)[0]).toMatch(
        /^faultline · dashboard-run-e2e +elapsed \d:\d\d remaining 0:\d\d RUNNING$/,
      );
      await p.waitFor("the achieved rate", atRate, 30_000);
      const active = await p.waitFor(
        "the freeze to be active",
        (s) => /^> ACTIVE {2}freeze-worker {2}freeze worker \(SIGSTOP.* ends in \d/m.test(s),
        30_000,
      );
      expect(lines(active).find((l) => l.startsWith("Faults"))).toMatch(
        /^Faults {4}timeline t=0:\d\d running {2}1 active, 0 planned, 0 past$/,
      );
      p.keys("q");
      const end = await p.waitFor("the CLI to exit", (s) => s.includes("EXIT="), 60_000);
      // An interrupted `faultline run` is an aborted run: exit 1 (exit-codes.ts).
      expect(exitCodeOn(end)).toBe(1);
      // The last frame, drawn after the rollback, shows the freeze undone.
      expect(end).toMatch(/^ {2}undone {2}freeze-worker {2}freeze worker .* at 0:03$/m);

      const record = await onlyRecord();
      expect([record.status, record.verdict, record.statusReason]).toEqual([
        "aborted",
        "aborted",
        "stopped from the dashboard (q); faults rolled back",
      ]);
      expect(
        record.faults.map((f) => [f.id, f.kind, f.injectedAtMs !== null, f.revertedAtMs !== null]),
      ).toEqual([["freeze-worker", "process-freeze", true, true]]);
      // Reverted by q, before the 23 s its timeline gave it.
      expect(record.faults[0]?.revertedAtMs).toBeLessThan(23_000);
      expect(await readdir(journal())).toEqual([]);
      expect(cleanup()).toEqual({ status: 0, stderr: `cleanup: nothing to revert (${journal()})\n` });
    }, 240_000);
  },
);

describe.skipIf(noTmux)(
  "faultline gameday in a real pty (no planned end; timeline kill at 2 s, freeze from the picker)",
  () => {
    it("runs past the file's 5 s, injects a picked fault, and q ends the session judged and rolled back", async () => {
      const p = startCli("gameday", "gameday test/harness/dashboard/fixtures/gameday.yaml");
      await p.waitFor("the dashboard", (s) => s.includes("faultline · dashboard-gameday-e2e"), 90_000);
      await p.waitFor(
        "the timeline's kill",
        (s) => /^ {2}done {4}kill-worker +SIGKILL worker/m.test(s),
        30_000,
      );
      // Past the file's own 5 s of load, still running, and no remaining time anywhere.
      const past = await p.waitFor(
        "elapsed past the file's load",
        (s) => /elapsed 0:(0[6-9]|[1-5]\d) no planned end RUNNING$/m.test(s),
        30_000,
      );
      expect(past).not.toMatch(/remaining/);
      await p.waitFor("the achieved rate", atRate, 20_000);

      p.keys("f");
      await p.waitFor("the kind list", (s) => s.includes("Inject a fault: kind (1/"), 10_000);
      p.keys("Down", "Down");
      await p.waitFor("process-freeze selected", (s) => /^> process-freeze /m.test(s), 10_000);
      p.keys("Enter");
      await p.waitFor("the target list", (s) => s.includes("Inject process-freeze: target"), 10_000);
      p.keys("Down");
      await p.waitFor("worker selected", (s) => /^> worker$/m.test(s), 10_000);
      p.keys("Enter");
      await p.waitFor("the params line", (s) => s.includes("params: {}_"), 10_000);
      p.keys("Enter");
      await p.waitFor("the hold time", (s) => s.includes("hold for: 30s_"), 10_000);
      p.keys("Enter");
      const active = await p.waitFor(
        "the picked freeze to be active",
        (s) => /^> ACTIVE {2}manual-1 +freeze worker .* ends in \d/m.test(s),
        30_000,
      );
      expect(lines(active)).toContain("injected process-freeze on worker");

      p.keys("q");
      const end = await p.waitFor("the CLI to exit", (s) => s.includes("EXIT="), 90_000);
      // q is a game day's planned end: judged, not aborted (the fixture's SLO is availability >= 50%).
      expect(exitCodeOn(end)).toBe(0);
      // The last frame, drawn after the rollback, shows the picked fault undone.
      expect(end).toMatch(/^ {2}undone {2}manual-1 +freeze worker .* at 0:\d\d$/m);
      // The summary printed after the last frame can push its header off the 24-line screen.
      expect(p.scrollback()).toMatch(
        /^faultline · dashboard-gameday-e2e +elapsed 0:\d\d no planned end ENDED$/m,
      );

      const record = await onlyRecord();
      expect([record.status, record.verdict]).toEqual(["completed", "pass"]);
      const ran = /^game day \(no planned end\): ran (\d+(?:\.\d+)?)s$/.exec(record.statusReason ?? "");
      expect(ran).not.toBeNull();
      // Judged over the time that ran: one 1 s window per second of it, not 4 h of windows.
      expect(record.windows).toHaveLength(Math.ceil(Number(ran?.[1])));
      expect((record.scenario.source as { load: { duration: number } }).load.duration).toBe(4 * 3_600_000);
      expect(
        record.faults.map((f) => [f.id, f.kind, f.injectedAtMs !== null, f.revertedAtMs !== null]),
      ).toEqual([
        ["kill-worker", "process-kill", true, false],
        ["manual-1", "process-freeze", true, true],
      ]);
      expect(record.steadyState.after.map((c) => c.passed)).toEqual([true]);
      expect(await readdir(journal())).toEqual([]);
      expect(cleanup()).toEqual({ status: 0, stderr: `cleanup: nothing to revert (${journal()})\n` });
    }, 240_000);
  },
);

describe.skipIf(noTmux)("faultline gameday ended by SIGTERM (as a facilitator's tooling would)", () => {
  it("SIGTERM is the session's normal end: exit by verdict, record completed, nothing left to clean up", async () => {
    const p = startCli("gameday-term", "gameday test/harness/dashboard/fixtures/gameday.yaml");
    await p.waitFor(
      "the timeline's kill",
      (s) => /^ {2}done {4}kill-worker +SIGKILL worker/m.test(s),
      90_000,
    );
    const [cli] = p.children();
    expect(cli).toBeGreaterThan(0);
    process.kill(cli ?? 0, "SIGTERM");
    const end = await p.waitFor("the CLI to exit", (s) => s.includes("EXIT="), 90_000);
    expect(exitCodeOn(end)).toBe(0);
    const record = await onlyRecord();
    expect([record.status, record.verdict]).toEqual(["completed", "pass"]);
    expect(record.statusReason).toMatch(/^game day \(no planned end\): ran \d+(\.\d+)?s$/);
    expect(cleanup()).toEqual({ status: 0, stderr: `cleanup: nothing to revert (${journal()})\n` });
  }, 240_000);
});
