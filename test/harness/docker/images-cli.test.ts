import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnCli } from "../cli/helpers.js";

/**
 * `faultline images build` through the real CLI process: the flags are checked before any
 * engine is contacted (exit 2), and a missing engine is "could not run" (exit 3) with the
 * reason and the fix, never a stack trace. The build itself is exercised by images.test.ts.
 */
const noEngine = { DOCKER_HOST: "unix:///nonexistent/faultline-test.sock" };

describe("faultline images build (real CLI)", { timeout: 60_000 }, () => {
  it("--help names the images, the flags and the exit codes", async () => {
    const r = await spawnCli(["images", "build", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: faultline images build [options]");
    expect(r.stdout).toContain("--only <kind>");
    expect(r.stdout).toContain("Exit codes: 0 built, 2 bad flag, 3 no engine or the build failed.");
  });

  it("an unknown image is bad input (exit 2) and contacts no engine", async () => {
    const r = await spawnCli(["images", "build", "--only", "nope"], { env: noEngine });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      "",
      'faultline: invalid input (1 problem):\n  --only: unknown image "nope" (fix: one of: runtime, reference, toxiproxy, haproxy)\n',
    ]);
  });

  it("no engine: exit 3 with the reason and the fix", async () => {
    const r = await spawnCli(["images", "build"], { env: noEngine });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      3,
      "",
      "faultline: no Docker engine: connect ENOENT /nonexistent/faultline-test.sock (start one with harness/docker/setup.sh)\nhint: run harness/docker/setup.sh as root, or set DOCKER_HOST\n",
    ]);
  });

  it("faultline run with a docker target and no engine: exit 3 with the reason and the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "faultline-no-engine-"));
    try {
      await writeFile(
        join(dir, "s.yaml"),
        "name: t\ntarget: { kind: docker }\nload: { rate: 5, duration: 2s }\nslos: [{ kind: availability, min: 0.9 }]\n",
      );
      const r = await spawnCli(["run", "s.yaml", "--runs-dir", "runs", "--progress", "none"], {
        cwd: dir,
        env: { ...noEngine, FAULTLINE_JOURNAL_DIR: join(dir, "journal") },
      });
      expect([r.code, r.stderr.split("\n").slice(0, 2)]).toEqual([
        3,
        [
          "faultline: no Docker engine: connect ENOENT /nonexistent/faultline-test.sock (start one with harness/docker/setup.sh)",
          "hint: run harness/docker/setup.sh as root, or set DOCKER_HOST",
        ],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
