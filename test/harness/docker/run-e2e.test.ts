import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../../harness/docker/labels.js";
import { removeRunResources } from "../../../harness/docker/resources.js";
import type { RunRecord } from "../../../harness/record/schema.js";
import { spawnCli } from "../cli/helpers.js";
import { ensureTestImage } from "./fixtures.js";
import { docker, skipWithoutDocker } from "./gate.js";

/**
 * A scenario of scenarios/docker/ through the real `faultline run` process and the real
 * engine: the Docker target starts the stack from the images the tests build (tag "test",
 * never rebuilt here), the API container is SIGKILLed as a crash, its restart policy brings it
 * back, and the run record must show the outage, the recovery and an empty fault journal, with
 * the run's containers and network gone afterwards.
 */
let dir: string;

beforeAll(async () => {
  if (skipWithoutDocker) return;
  dir = await mkdtemp(join(tmpdir(), "faultline-docker-e2e-"));
  await ensureTestImage(docker);
}, 240_000);

afterAll(async () => {
  if (skipWithoutDocker) return;
  // Whatever a failed assertion left: every container and network these runs labelled.
  for (const runId of await readdir(join(dir, "runs")).catch(() => []))
    await removeRunResources(docker, runId.toLowerCase());
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function runFile(
  yaml: string,
): Promise<{ code: number | null; stderr: string; record: RunRecord; runId: string; journal: string[] }> {
  await rm(join(dir, "runs"), { recursive: true, force: true });
  await writeFile(join(dir, "s.yaml"), yaml);
  const r = await spawnCli(["run", "s.yaml", "--runs-dir", "runs", "--no-reports", "--progress", "lines"], {
    cwd: dir,
    env: { FAULTLINE_JOURNAL_DIR: join(dir, "journal"), GITHUB_STEP_SUMMARY: join(dir, "summary.md") },
    timeoutMs: 150_000,
  });
  const [runId = ""] = await readdir(join(dir, "runs"));
  const record = JSON.parse(await readFile(join(dir, "runs", runId, "run.json"), "utf8")) as RunRecord;
  const journal = await readdir(join(dir, "journal")).catch(() => []);
  return { code: r.code, stderr: r.stderr, record, runId, journal };
}

async function leftOver(runId: string): Promise<string[]> {
  const label = [`${LABELS.run}=${runId.toLowerCase()}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const networks = await docker.listNetworks({ filters: { label } });
  return [
    ...containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, "")),
    ...networks.map((n) => n.Name),
  ].sort();
}

/** The shipped scenario, pointed at the test images and never rebuilding them. */
async function shipped(file: string, targetExtra: string): Promise<string> {
  const text = await readFile(new URL(`../../../scenarios/docker/${file}`, import.meta.url), "utf8");
  const patched = text.replace("target:\n  kind: docker\n", `target:\n  kind: docker\n${targetExtra}`);
  expect(patched).not.toBe(text);
  return patched.replace("$schema=../scenario.schema.json", "");
}

describe.skipIf(skipWithoutDocker)("faultline run scenarios/docker (real CLI, real engine)", () => {
  it("container crash: outage and restart-policy recovery measured, journal empty, containers removed", async () => {
    const yaml = await shipped("01-container-crash.yaml", "  tag: test\n  build: never\n");
    const { code, stderr, record, runId, journal } = await runFile(yaml);
    expect(record.status, stderr).toBe("completed");
    // The harness is under test here, not the engine's restart speed: the verdict is the SLOs'
    // and the exit code the verdict's. Whether 85% answered is met depends on how long the
    // restarted API takes to listen (1.8-4 s measured when this file runs beside the rest of
    // the suite; the CI scenario run, alone on the machine, gates the bound itself).
    const met = record.slos.every((s) => s.passed);
    expect([code, record.verdict], stderr).toEqual(met ? [0, "pass"] : [1, "fail"]);
    expect(record.slos.map((s) => [s.id, s.measured !== null])).toEqual([
      ["recover", true],
      ["availability", true],
      ["p99", true],
      ["monthly", true],
    ]);
    // Refused connections cost answered availability: below 100%, above the primary's share.
    const availability = record.slos.find((s) => s.id === "availability")?.measured ?? 1;
    const sent = Object.values(record.totals).reduce((a, b) => a + b, 0);
    expect(availability).toBeLessThan(1);
    expect(availability).toBeGreaterThanOrEqual(record.totals.ok / sent);
    expect(record.target.kind).toBe("docker");
    const [fault] = record.faults;
    expect([fault?.id, fault?.kind, fault?.recovered]).toEqual(["crash-api", "container-kill", true]);
    // The outage is real and measured: connections refused between the kill (4 s) and the
    // restart, so some requests fail as `conn` and a downtime span starts near 4 s. How many
    // depends on how fast the engine restarts the container on a loaded machine (5-6 here).
    expect(record.totals.conn).toBeGreaterThan(0);
    expect(record.totals.error + record.totals.timeout + record.totals.shed).toBe(0);
    const outage = record.downtime?.[0];
    expect(outage !== undefined && outage.startMs >= 3900 && outage.startMs <= 4500).toBe(true);
    // Recovery is measured and falls inside the run (0.17-3 s measured; the SLO judges it).
    expect(fault?.timeToRecoverMs !== null && (fault?.timeToRecoverMs ?? 1e9) < 16_000).toBe(true);
    const lines = record.events.filter((e) => e.kind === "target").map((e) => e.message);
    expect(lines).toContain("container api: died (exit 137)");
    expect(
      lines.some((l) =>
        /^container api: recovered: running again \d+ ms and ready \d+ ms after it died \(restart count 1\)$/.test(
          l,
        ),
      ),
      lines.join("\n"),
    ).toBe(true);
    // The API container is the reference service: its /metrics was scraped during the run.
    const series = new Set(record.targetMetrics.flatMap((m) => Object.keys(m.values)));
    expect(series.has("faultline_worker_up")).toBe(true);
    expect(journal).toEqual([]);
    expect(await leftOver(runId)).toEqual([]);
  }, 200_000);

  it("keep: true leaves the run's container and network in place", async () => {
    const yaml = `name: keep
target: { kind: docker, tag: test, build: never, keep: true }
load: { rate: 5, duration: 2s, mix: [{ kind: chat, model: sim-utility, maxTokens: 4 }] }
slos: [{ kind: availability, min: 0.99 }]
`;
    const { code, stderr, record, runId } = await runFile(yaml);
    expect([code, record.status], stderr).toEqual([0, "completed"]);
    const project = `faultline-${runId.toLowerCase()}`;
    expect(await leftOver(runId)).toEqual([`${project}-api-1`, `${project}_default`]);
    await removeRunResources(docker, runId.toLowerCase());
    expect(await leftOver(runId)).toEqual([]);
  }, 120_000);
});
