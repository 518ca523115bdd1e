import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../../common/clock.js";
import type { Runtime } from "../../../../common/runtime.js";
import { packageRoot } from "../../../../common/package-root.js";
import { imagesBuildCommand } from "../../../../harness/cli/commands/images-build.js";
import { isRunNotPossibleError } from "../../../../common/errors.js";

function runtime(env: Record<string, string>): Runtime & { out: () => string } {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (b: Buffer) => (text += b.toString()));
  return {
    clock: new ManualClock(),
    env,
    cwd: "/",
    stdout,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    onSignal: () => () => {},
    out: () => text,
  };
}

describe("imagesBuildCommand", () => {
  it("finds the package root from its own module", () => {
    expect(packageRoot()).toBe(fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, ""));
  });

  it("without an engine it fails with the reason and how to start one, printing nothing on stdout", async () => {
    const rt = runtime({ FAULTLINE_DOCKER_SOCKET: "/nonexistent/docker.sock" });
    let caught: unknown;
    try {
      await imagesBuildCommand({}, rt);
    } catch (e) {
      caught = e;
    }
    expect(isRunNotPossibleError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/^no Docker engine: .*ENOENT/);
    expect((caught as { hint?: string }).hint).toBe(
      "run harness/docker/setup.sh as root, or set DOCKER_HOST",
    );
    expect(rt.out()).toBe("");
  });
});
