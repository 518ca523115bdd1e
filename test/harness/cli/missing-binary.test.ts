import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeArgsFor } from "../../../common/spawn-module.js";
import { CLI_ENTRY } from "./helpers.js";

/**
 * A command target whose binary does not exist once made the harness call kill(0, SIGTERM)
 * (a child with no pid), killing every process in its group: the shell that ran faultline
 * included. The CLI runs here from a wrapper shell in the same process group (the wrapper leads
 * a group of its own, so the test runner is outside it) and the wrapper must outlive it.
 */
async function runFromWrapper(
  cmd: string,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), "faultline-missing-bin-"));
  const scenario = join(dir, "missing.yaml");
  await writeFile(
    scenario,
    [
      "name: missing-binary",
      "target:",
      "  kind: command",
      `  cmd: ${JSON.stringify(cmd)}`,
      "  readyUrl: http://127.0.0.1:9/health",
      "  startTimeout: 5s",
      "load: { rate: 1, duration: 1s, mix: [{ kind: chat, model: m, weight: 1 }] }",
      "slos: [{ id: a, kind: availability, min: 0.5 }]",
      "",
    ].join("\n"),
  );
  const nodeArgs = nodeArgsFor(CLI_ENTRY);
  const cli = [
    process.execPath,
    ...nodeArgs,
    "run",
    scenario,
    "--runs-dir",
    join(dir, "runs"),
    "--progress",
    "none",
  ]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const wrapper = spawn("/bin/sh", ["-c", `${cli} 2>&1; echo "faultline-exit=$?"; echo wrapper-alive`], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FAULTLINE_DEBUG: "" },
  });
  let out = "";
  wrapper.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    wrapper.once("exit", (c, s) => resolve([c, s])),
  );
  return { code, signal, out };
}

describe("a command target whose binary is missing", () => {
  it("exits 3 naming the binary, and the calling shell's process group lives on", async () => {
    const r = await runFromWrapper("/nonexistent/faultline-no-such-server");
    expect(r.signal).toBeNull();
    expect(r.out).toContain("wrapper-alive");
    expect(r.out).toContain("faultline-exit=3");
    expect(r.out).toContain(
      `the command target's binary "/nonexistent/faultline-no-such-server" was not found`,
    );
  }, 30_000);

  it("suggests args when cmd is a whole shell line", async () => {
    const r = await runFromWrapper("node server.js --port 8080");
    expect(r.signal).toBeNull();
    expect(r.out).toContain("wrapper-alive");
    expect(r.out).toContain("faultline-exit=3");
    expect(r.out).toContain('write cmd: "node" and args: ["server.js","--port","8080"]');
  }, 30_000);
});
