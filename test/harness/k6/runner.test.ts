import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OUTCOME_CODE, type Outcome } from "../../../common/outcome.js";
import { readRunRecord } from "../../../harness/record/io.js";
import { signalWhen, spawnCli, spawnCliProcess } from "../cli/helpers.js";

/**
 * `load.driver: k6` through the real CLI and runner, against the real reference service. k6
 * itself cannot be downloaded here, so a stand-in `k6` is put on PATH
 * (fixtures/k6-standin.ts: it sends the script's requests for real and writes k6's JSON
 * output format; see its header for what it does not do).
 */
const STANDIN = fileURLToPath(new URL("./fixtures/k6-standin.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

// 10 req/s for 4 s = 40 arrivals; the stand-in sends template i mod 2: chat (200) and an
// unknown route (404, an error), so 20 ok + 20 error on a machine that keeps up. The latency
// fault on the client link slows answers without changing them (deadline 5 s).
const SCENARIO = `name: k6-driven
seed: 3
target: { kind: reference }
load:
  driver: k6
  rate: 10
  duration: 4s
  deadline: 5s
  mix:
    - { kind: chat, model: sim-utility, maxTokens: 4 }
    - { kind: http, method: GET, path: /no-such-route }
steadyState:
  before:
    - { kind: http, url: /health/ready, status: 200, within: 10s }
faults:
  - { id: slow-link, kind: net-latency, target: link:client-api, at: 1s, duration: 2s, params: { latency: 300 } }
slos:
  - { id: availability, kind: availability, min: 0.9 }
  - { id: p99, kind: latency, percentile: 99, max: 5s }
`;

/** One Point line of k6's JSON output, as far as this test reads it. */
interface K6PointLine {
  readonly data: { readonly tags: Record<string, string>; readonly metadata: Record<string, string> };
}

let dir: string;
let bin: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-k6-runner-"));
  bin = join(dir, "bin");
  await writeFile(join(dir, "k6-driven.yaml"), SCENARIO);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function installStandin(): Promise<void> {
  await mkdir(bin);
  await writeFile(
    join(bin, "k6"),
    `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${STANDIN}" "$@"\n`,
  );
  await chmod(join(bin, "k6"), 0o755);
}

/** Command lines of every process on the machine that mention `text`, but not ps itself. */
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)("ps", ["-eo", "args"]);
  return stdout.split("\n").filter((l) => l.includes(text) && !l.startsWith("ps "));
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The first test's scenario: the same 40 arrivals over 8 s (5 req/s), the toxic from 4 s to
 * 7 s. k6 starts sending only after its start-up, on the run's axis after the fault timeline's
 * origin: the stand-in starts under tsx, ~0.6 s on a quiet machine and over 3 s at load average
 * 12, when a toxic at 1-3 s caught no request at all. Sends at offset + 0..7.8 s still overlap
 * 4-7 s with a start-up up to about 6.5 s.
 */
const SPREAD = SCENARIO.replace("rate: 10\n  duration: 4s", "rate: 5\n  duration: 8s").replace(
  "at: 1s, duration: 2s",
  "at: 4s, duration: 3s",
);

function run(path: string): ReturnType<typeof spawnCli> {
  const args = [
    "run",
    join(dir, "k6-driven.yaml"),
    "--runs-dir",
    join(dir, "runs"),
    "--no-reports",
    "--no-dashboard",
  ];
  // From the repository: the reference service is spawned from sources, with tsx resolved there.
  return spawnCli(args, {
    cwd: ROOT,
    env: { PATH: path, FAULTLINE_JOURNAL_DIR: join(dir, "journal") },
    timeoutMs: 90_000,
  });
}

describe("load.driver: k6 in faultline run", { timeout: 120_000 }, () => {
  it("k6 sends the load; its rows are the record's requests and the verdicts come from them", async () => {
    await installStandin();
    await writeFile(join(dir, "k6-driven.yaml"), SPREAD);
    const r = await run(`${bin}:${process.env.PATH ?? ""}`);
    const [id] = await readdir(join(dir, "runs"));
    const runDir = join(dir, "runs", id ?? "");
    const loaded = await readRunRecord(runDir);
    const { record } = loaded;

    // What k6 (the stand-in) saw, read straight from its output file, per iteration.
    const seen = (await readFile(join(runDir, "k6-points.json"), "utf8"))
      .split("\n")
      .filter((l) => l.includes('"type":"Point"'))
      .map((l) => JSON.parse(l) as K6PointLine)
      .map((p) => ({
        iter: Number(p.data.metadata.fl_iter),
        status: Number(p.data.tags.status),
        outcome: p.data.tags.fl_outcome as Outcome,
      }))
      .sort((a, b) => a.iter - b.iter);
    const why = `stderr:\n${r.stderr}\nk6 saw: ${JSON.stringify(seen)}`;
    // The unknown route is a 404 whatever the machine's load; the chat is 200 unless the service,
    // starved of CPU, served a fallback or shed it, so it is taken from what k6 saw.
    expect(
      seen.map((x) => x.iter),
      why,
    ).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(
      seen.filter((x) => x.iter % 2 === 1).map((x) => [x.status, x.outcome]),
      why,
    ).toEqual(Array.from({ length: 20 }, () => [404, "error"]));
    const count = (o: string): number => seen.filter((x) => x.outcome === o).length;

    expect(record.load.driver).toBe("k6");
    expect(record.load.k6).toMatchObject({ exitCode: 0, droppedIterations: 0, source: "faultline_request" });
    expect(record.totals, why).toEqual({
      ok: count("ok"),
      degraded: count("degraded"),
      shed: count("shed"),
      error: count("error"),
      timeout: count("timeout"),
      conn: count("conn"),
    });
    // On a machine that keeps up, all 20 chats are ok: availability 20/40 (degraded is down here).
    expect(record.availability.value, why).toBe(count("ok") / 40);
    expect(record.slos.map((x) => [x.id, x.measured, x.passed])).toEqual([
      ["availability", count("ok") / 40, false],
      ["p99", record.latency.intended.p99, (record.latency.intended.p99 ?? Infinity) <= 5000],
    ]);
    expect([record.verdict, r.code]).toEqual(["fail", 1]);

    const c = await loaded.requests();
    if (c === null) throw new Error("the record names no requests file");
    const offset = record.load.k6?.startOffsetMs ?? Number.NaN;
    // k6's schedule (200 ms apart from its own start) on the run's axis: shifted by its start-up.
    expect(Array.from(c.intended)).toEqual(Array.from({ length: 40 }, (_, i) => i * 200 + offset));
    expect(Array.from(c.template)).toEqual(Array.from({ length: 40 }, (_, i) => i % 2));
    // The record's rows are k6's, one for one.
    expect(Array.from(c.status)).toEqual(seen.map((x) => x.status));
    expect(Array.from(c.outcome)).toEqual(seen.map((x) => OUTCOME_CODE[x.outcome]));
    // The fault ran on the same axis while k6 sent (planned 4 s to 7 s from the origin).
    const [fault] = record.faults;
    const [from, until] = [fault?.injectedAtMs ?? Number.NaN, fault?.endMs ?? Number.NaN];
    expect([fault?.id, fault?.startMs, until, (fault?.revertedAtMs ?? 0) >= until]).toEqual([
      "slow-link",
      4000,
      7000,
      true,
    ]);
    // Sent once the toxic was in place and answered before its revert began: the toxic held
    // the answer the full 300 ms (a revert releases a held chunk at once, so later ones may not).
    const inside = Array.from(c.sent).flatMap((sent, i) =>
      sent >= from && (c.end[i] ?? Infinity) <= until ? [(c.end[i] ?? 0) - sent] : [],
    );
    expect(inside.filter((serviceMs) => serviceMs < 300)).toEqual([]);
    // Not exact (how many fall inside depends on k6's start-up), but an empty window would make
    // the check above vacuous: with a start-up under 1 s, about 14 of the 40 do.
    expect(inside.length).toBeGreaterThan(0);
    // k6's script, points and summary are kept next to the record.
    expect((await readdir(runDir)).filter((f) => f.startsWith("k6-")).sort()).toEqual([
      "k6-points.json",
      "k6-script.ts",
      "k6-summary.json",
    ]);
    expect(await processesMentioning(dir)).toEqual([]);
  });

  it("SIGINT mid-run: k6 is stopped, the fault reverted, what k6 sent is recorded, exit 1", async () => {
    await installStandin();
    const long = SCENARIO.replace("duration: 4s", "duration: 30s").replace(
      "at: 1s, duration: 2s",
      "at: 2s, duration: 25s",
    );
    await writeFile(join(dir, "k6-driven.yaml"), long);
    const child = spawnCliProcess(
      ["run", join(dir, "k6-driven.yaml"), "--runs-dir", join(dir, "runs"), "--no-reports", "--no-dashboard"],
      {
        cwd: ROOT,
        env: { PATH: `${bin}:${process.env.PATH ?? ""}`, FAULTLINE_JOURNAL_DIR: join(dir, "journal") },
      },
    );
    expect(await signalWhen(child, "fault-injected", "SIGINT")).toBe(1);
    const [id] = await readdir(join(dir, "runs"));
    const record = (await readRunRecord(join(dir, "runs", id ?? ""))).record;
    expect([record.status, record.statusReason]).toEqual([
      "aborted",
      "interrupted (SIGINT); faults rolled back",
    ]);
    expect(record.events.filter((e) => e.kind.startsWith("fault")).map((e) => e.kind)).toEqual([
      "fault-injected",
      "fault-reverted",
    ]);
    expect(await readdir(join(dir, "journal"))).toEqual([]);
    // k6 stopped issuing at the interrupt: fewer than the 300 arrivals of 30 s, and what it sent
    // is in the record. How many depends on k6's start-up (the stand-in starts under tsx, ~0.6 s
    // here, so ~14 by the 2 s fault); when the interrupt comes before k6 has started, it wrote
    // nothing and the run has none (driver.test.ts covers that case exactly).
    const { ok, error, ...others } = record.totals;
    expect(ok + error < 300).toBe(true);
    // Template i mod 2 for iterations 0..n-1: ceil(n/2) ok and floor(n/2) errors.
    expect([ok - error === 0 || ok - error === 1, others]).toEqual([
      true,
      { degraded: 0, shed: 0, timeout: 0, conn: 0 },
    ]);
    // The stand-in, like k6, ends normally on SIGINT once it runs (0); killed in its start-up: 130.
    expect([0, 130]).toContain(record.load.k6?.exitCode);
    expect(await processesMentioning(dir)).toEqual([]);
  });

  it("without k6 on PATH: one line naming load.driver and the fix, exit 3, nothing started", async () => {
    // An empty directory as PATH: no k6 whatever the machine has installed (the CLI itself is
    // started by its absolute path, and the refusal comes before anything else is spawned).
    await mkdir(bin);
    const r = await run(bin);
    const refusal =
      "faultline: load.driver: k6 needs the k6 binary on PATH and none was found (fix: install k6, " +
      "https://grafana.com/docs/k6/latest/set-up/install-k6/, or remove load.driver to use the built-in load generator)";
    expect(r.stderr.split("\n").filter((l) => l.includes("load.driver"))).toEqual([
      refusal,
      // ...and the suite's summary row for the scenario, which repeats it as its error.
      expect.stringMatching(/^k6-driven +ERROR .* load\.driver: k6 needs the k6 binary on PATH/),
    ]);
    expect(r.stderr.split("\n")[0]).toBe(refusal);
    expect(r.code).toBe(3);
    // Refused before the run directory and the target: nothing to clean up, nothing running.
    await expect(stat(join(dir, "runs"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await processesMentioning(dir)).toEqual([]);
  });
});
