import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunNotPossibleError } from "../../../common/errors.js";
import { findOnPath, runK6Load } from "../../../harness/k6/driver.js";
import { exportK6Script } from "../../../harness/k6/export.js";
import { loadScenarioFile } from "./examples.js";

/**
 * k6 cannot be downloaded here, so the real binary is never run. The missing-binary refusal is
 * tested as is; the run path is tested with a stand-in `k6` shell script on PATH that records
 * its argv and writes the k6 output fixtures where k6 would (the outside world stood in).
 */
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

function fakeK6(dir: string, exitCode: number): string {
  return `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/argv.txt"
out=""; summary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) shift; out="\${1#json=}" ;;
    -e) shift; case "$1" in FAULTLINE_SUMMARY=*) summary="\${1#FAULTLINE_SUMMARY=}" ;; esac ;;
  esac
  shift
done
/bin/cp "${FIXTURES}points-faultline.ndjson" "$out"
/bin/cp "${FIXTURES}summary.json" "$summary"
echo "fake k6 failing on purpose" >&2
exit ${exitCode}
`;
}

let bin: string;
let runDir: string;

beforeEach(async () => {
  bin = await mkdtemp(join(tmpdir(), "faultline-k6-bin-"));
  runDir = await mkdtemp(join(tmpdir(), "faultline-k6-run-"));
});

afterEach(async () => {
  await rm(bin, { recursive: true, force: true });
  await rm(runDir, { recursive: true, force: true });
});

async function installFake(exitCode: number): Promise<void> {
  await writeFile(join(bin, "k6"), fakeK6(bin, exitCode));
  await chmod(join(bin, "k6"), 0o755);
}

describe("load.driver: k6", () => {
  it("refuses to run without k6 on PATH, naming the field and the fix", async () => {
    const scenario = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    const run = runK6Load(scenario, { baseUrl: "http://127.0.0.1:1", dir: runDir, env: { PATH: bin } });
    // Not invalid input (exit 2): the scenario is valid; this machine cannot run it (exit 3).
    await expect(run).rejects.toBeInstanceOf(RunNotPossibleError);
    await expect(run).rejects.toThrow(
      "load.driver: k6 needs the k6 binary on PATH and none was found (fix: install k6, " +
        "https://grafana.com/docs/k6/latest/set-up/install-k6/, or remove load.driver to use the built-in load generator)",
    );
  });

  it("finds only an executable k6", async () => {
    await writeFile(join(bin, "k6"), "#!/bin/sh\n");
    expect(await findOnPath("k6", `/nonexistent:${bin}`)).toBe(null);
    await chmod(join(bin, "k6"), 0o755);
    expect(await findOnPath("k6", `/nonexistent:${bin}`)).toBe(join(bin, "k6"));
    expect(await findOnPath("k6", undefined)).toBe(null);
  });

  it("runs k6 on the exported script and reads its points and summary (stand-in k6)", async () => {
    await installFake(99);
    const scenario = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    const r = await runK6Load(scenario, {
      baseUrl: "http://127.0.0.1:4321",
      dir: runDir,
      env: { PATH: bin },
    });
    const files = {
      script: join(runDir, "k6-script.ts"),
      points: join(runDir, "k6-points.json"),
      summary: join(runDir, "k6-summary.json"),
    };
    expect((await readFile(join(bin, "argv.txt"), "utf8")).split("\n")).toEqual([
      "run",
      "--quiet",
      "--out",
      `json=${files.points}`,
      "-e",
      "FAULTLINE_BASE_URL=http://127.0.0.1:4321",
      "-e",
      `FAULTLINE_SUMMARY=${files.summary}`,
      files.script,
      "",
    ]);
    expect(await readFile(files.script, "utf8")).toBe(exportK6Script(scenario));
    expect(r.exitCode).toBe(99);
    expect(r.thresholdsFailed).toBe(true);
    expect(r.files).toEqual(files);
    // Intended times from the baseline plan: 20 req/s, so iteration i at 50 i ms.
    expect(r.requests.rows.map((x) => [x.intended, x.outcome, x.template])).toEqual([
      [0, "ok", 0],
      [50, "degraded", 1],
      [100, "shed", 0],
      [150, "timeout", 0],
    ]);
    expect(r.summary?.thresholds).toEqual([
      { metric: "http_req_duration", expression: "p(99)<=1000", ok: true },
      { metric: "faultline_full", expression: "rate>=0.999", ok: false },
    ]);
  });

  it("interrupted while k6 is still starting: no output is an empty run, not an error", async () => {
    // Stands in for k6 stopped during its init (compiling the script): it has written nothing.
    await writeFile(
      join(bin, "k6"),
      `#!/bin/sh\ntrap 'kill $!; exit 130' INT\n/bin/sleep 20 &\n: > "${bin}/started"\nwait\n`,
    );
    await chmod(join(bin, "k6"), 0o755);
    const scenario = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    const stop = new AbortController();
    const run = runK6Load(scenario, {
      baseUrl: "http://127.0.0.1:4321",
      dir: runDir,
      env: { PATH: bin },
      signal: stop.signal,
    });
    while (
      !(await stat(join(bin, "started")).then(
        () => true,
        () => false,
      ))
    )
      await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    const r = await run;
    expect([r.exitCode, r.thresholdsFailed, r.requests.rows, r.summary]).toEqual([130, false, [], null]);
  });

  it("k6 that exits 0 without writing its output is a run that was not possible", async () => {
    await writeFile(join(bin, "k6"), "#!/bin/sh\nexit 0\n");
    await chmod(join(bin, "k6"), 0o755);
    const scenario = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    const run = runK6Load(scenario, { baseUrl: "http://127.0.0.1:4321", dir: runDir, env: { PATH: bin } });
    await expect(run).rejects.toBeInstanceOf(RunNotPossibleError);
    await expect(run).rejects.toThrow(
      `k6 exited without writing its output (${join(runDir, "k6-points.json")})`,
    );
  });

  it("any other k6 exit code is a run that was not possible, with k6's last stderr line", async () => {
    await installFake(107);
    const scenario = await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml");
    const run = runK6Load(scenario, { baseUrl: "http://127.0.0.1:4321", dir: runDir, env: { PATH: bin } });
    await expect(run).rejects.toBeInstanceOf(RunNotPossibleError);
    await expect(run).rejects.toThrow("k6 exited with 107: fake k6 failing on purpose");
  });
});
