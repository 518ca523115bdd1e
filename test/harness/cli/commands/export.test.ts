import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../common/errors.js";
import { processRuntime, type Runtime } from "../../../../common/runtime.js";
import type { CliDeps, CommandContext } from "../../../../harness/cli/context.js";
import { Output } from "../../../../harness/cli/output.js";
import { FAULT_KINDS } from "../../../../harness/faults/registry.js";
import { registerExportCommand } from "../../../../harness/cli/commands/export.js";
import { exportK6Script } from "../../../../harness/k6/export.js";
import { ROOT, loadScenarioFile } from "../../k6/examples.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-k6-cmd-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `faultline export ...` through commander with captured stdout/stderr; returns [stdout, stderr, exit]. */
async function exportCli(args: readonly string[]): Promise<[string, string, number | null]> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const rt: Runtime = { ...processRuntime(), cwd: ROOT, stdout, stderr };
  let exit: number | null = null;
  // Only the catalog is read by this command; the rest of CliDeps is the run command's.
  const deps = { catalog: FAULT_KINDS } as unknown as CliDeps;
  const ctx: CommandContext = { rt, out: new Output(rt), deps, setExit: (c) => (exit = c) };
  const program = new Command("faultline").exitOverride();
  registerExportCommand(program, ctx);
  await program.parseAsync(["export", ...args], { from: "user" });
  return [out, err, exit];
}

describe("faultline export k6", () => {
  it("prints the script on stdout", async () => {
    const [out, err, exit] = await exportCli(["k6", "test/harness/k6/fixtures/baseline.yaml"]);
    expect(out).toBe(exportK6Script(await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml")));
    expect(err).toBe("");
    expect(exit).toBe(0);
  });

  it("-o writes the file and says how to run it", async () => {
    const file = join(dir, "baseline.ts");
    const [out, err, exit] = await exportCli(["k6", "test/harness/k6/fixtures/baseline.yaml", "-o", file]);
    expect(await readFile(file, "utf8")).toBe(
      exportK6Script(await loadScenarioFile("test/harness/k6/fixtures/baseline.yaml")),
    );
    expect([out, err, exit]).toEqual(["", `wrote ${file} (k6 run --out json=points.json ${file})\n`, 0]);
  });

  it("refuses an unknown format, naming the choices", async () => {
    await expect(exportCli(["gatling", "test/harness/k6/fixtures/baseline.yaml"])).rejects.toThrow(
      new InvalidInputError([
        { path: "format", message: 'unknown export format "gatling"', hint: "one of: k6" },
      ]).message,
    );
  });
});
